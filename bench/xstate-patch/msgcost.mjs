// Per-message CPU and allocated bytes of the actor path (session -> channel -> outbox -> store -> connections), no sockets.
// Run with: XSTATE_DIR=<xstate package dir> node --expose-gc --import ./bench/xstate-patch/redirect.mjs bench/xstate-patch/msgcost.mjs
// GC µs: the sum of the GCProfiler's per-GC cost (µs of pause) over the rep.
// Bytes allocated: v8.GCProfiler over each measured rep: (heapUsed_end - heapUsed_start) + sum over GCs of (before - after).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { MemoryStore, SqliteStore, parseClientFrame, startServer } from './server.mjs';
const store = process.env.STORE === 'sqlite' ? new SqliteStore({ dataDir: mkdtempSync(join(tmpdir(), 'msgcost-')) }) : new MemoryStore();
let frames = 0;
const conn = { send() { frames++; }, sendMany(f) { frames += f.length; }, sendSplit() { frames++; }, close() {} };
const server = startServer(store);
const settle = () => new Promise((r) => setImmediate(r));
const C = 100, M = 10; const sessions = [];
for (let c = 0; c < C; c++) for (let m = 0; m < M; m++) {
  const id = String(sessions.length + 1);
  server.send({ type: 'connection.open', id, nick: `u${id}`, address: '1', connection: conn });
  sessions.push({ id, ch: `#c${c}` });
}
for (let i = 0; i < 5; i++) await settle();
await new Promise(r => setTimeout(r, 50));
for (const s of sessions) server.system.get(`session:${s.id}`).send({ type: 'client.join', channel: s.ch });
for (let i = 0; i < 5; i++) await settle();
const PER_TURN = Number(process.env.PER_TURN ?? 500), TURNS = Number(process.env.TURNS ?? 200);
const refs = sessions.map(s => server.system.get(`session:${s.id}`));
const text = (i) => JSON.stringify({ type: 0, dest: sessions[i % sessions.length].ch, message: `{"s":${i},"q":${i},"t":1234567890123}` });
async function run(turns) {
  let k = 0;
  for (let t = 0; t < turns; t++) {
    for (let i = 0; i < PER_TURN; i++, k++) {
      const n = k % refs.length;
      const ev = parseClientFrame(text(n));
      refs[n].send(ev);
    }
    await settle(); await settle();
  }
  return k;
}
await run(50);
const cpuRes = [], bytesRes = [], gcRes = [];
for (let r = 0; r < Number(process.env.REPS ?? 5); r++) {
  frames = 0;
  globalThis.gc?.();
  const prof = new v8.GCProfiler();
  const h0 = process.memoryUsage().heapUsed;
  prof.start();
  const cpu = process.cpuUsage();
  const n = await run(TURNS);
  const c = process.cpuUsage(cpu);
  const h1 = process.memoryUsage().heapUsed;
  const { statistics } = prof.stop();
  let freed = 0, gcCost = 0;
  for (const s of statistics) { freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize; gcCost += s.cost; }
  gcRes.push(gcCost / n);
  cpuRes.push((c.user + c.system) / n);
  bytesRes.push((h1 - h0 + freed) / n);
  if (frames !== n * M) throw new Error(`expected ${n * M} frames, got ${frames}`);
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(JSON.stringify({ store: process.env.STORE ?? 'memory', usPerMsg: +med(cpuRes).toFixed(2), gcUsPerMsg: +med(gcRes).toFixed(2), bytesPerMsg: Math.round(med(bytesRes)), cpu: cpuRes.map(x => +x.toFixed(2)), bytes: bytesRes.map(Math.round) }));
process.exit(0);
