// Heap bytes per logged-in session of our server (session actor + server/supervisor bookkeeping).
// Run: XSTATE_DIR=<xstate package dir> node --expose-gc --import ./bench/xstate-patch/redirect.mjs bench/xstate-patch/sessmem.mjs
import { MemoryStore, startServer } from './server.mjs';
const server = startServer(new MemoryStore());
const conn = { send() {}, sendMany() {}, sendSplit() {}, close() {} };
const settle = () => new Promise((r) => setImmediate(r));
const heap = async () => { for (let i = 0; i < 3; i++) { await settle(); globalThis.gc(); } return process.memoryUsage().heapUsed; };
const N = Number(process.env.N ?? 10000);
const open = async (from, to) => { for (let i = from; i <= to; i++) { server.send({ type: 'connection.open', id: String(i), nick: `storm0x${i}`, address: '127.0.0.1', connection: conn }); if (i % 200 === 0) await settle(); } await new Promise((r) => setTimeout(r, 300)); };
await open(N + 1, N + 300); // warm-up sessions (code, feedback, hidden classes); not counted
const before = await heap();
await open(1, N);
const after = await heap();
let active = 0; for (let i = 1; i <= N; i++) if (server.system.get(`session:${i}`)?.getSnapshot().matches('active')) active++;
if (active !== N) throw new Error(`only ${active} of ${N} sessions active`);
console.log(JSON.stringify({ sessions: active, bytesPerSession: Math.round((after - before) / N) }));
process.exit(0);
