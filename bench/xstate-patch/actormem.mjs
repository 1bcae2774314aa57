// Heap bytes per started actor of a trivial two-state machine.
//   root:  N root actors, each createActor(trivial, { systemId }).start() (each has its own system)
//   child: N children spawned by one parent machine with spawnChild(trivial, { id, systemId }) - how our sessions live
// Run: XSTATE_DIR=<xstate package dir> node --expose-gc --import ./bench/xstate-patch/redirect.mjs bench/xstate-patch/actormem.mjs
const { createActor, createMachine, assign, setup } = await import('xstate');
const settle = () => new Promise((r) => setImmediate(r));
const heap = async () => { for (let i = 0; i < 3; i++) { await settle(); globalThis.gc(); } return process.memoryUsage().heapUsed; };
const N = Number(process.env.N ?? 10000);
const trivial = createMachine({ id: 't', initial: 'a', context: { id: '' }, states: { a: { on: { go: 'b' } }, b: {} } });
const out = {};
// warm up both paths so that code, feedback vectors and hidden classes are not counted
{ const w = []; for (let i = 0; i < 200; i++) w.push(createActor(trivial, { systemId: 'w' + i }).start()); }
const parentMachine = setup({ actors: { trivial } }).createMachine({
  id: 'p', context: { n: 0 },
  // as our supervisor spawns sessions: assign + spawn with an id and a systemId
  on: { add: { actions: assign(({ context, event, spawn }) => { spawn('trivial', { id: event.id, systemId: event.id }); return { n: context.n + 1 }; }) } },
});
{ const w = createActor(parentMachine).start(); for (let i = 0; i < 200; i++) w.send({ type: 'add', id: 'w' + i }); w.stop(); }
if (!process.env.MODE || process.env.MODE === 'root') {
  let b = await heap();
  const actors = []; for (let i = 0; i < N; i++) actors.push(createActor(trivial, { systemId: 's' + i }).start());
  let a = await heap();
  out.rootBytes = Math.round((a - b) / N);
  globalThis.keep = actors;
}
if (!process.env.MODE || process.env.MODE === 'child') {
  const parent = createActor(parentMachine).start();
  let b = await heap();
  for (let i = 0; i < N; i++) parent.send({ type: 'add', id: 'c' + i });
  let a = await heap();
  out.childBytes = Math.round((a - b) / N);
  if (Object.keys(parent.getSnapshot().children).length !== N || parent.system.get('c5').getSnapshot().value !== 'a') throw new Error('children missing');
  globalThis.keep2 = parent;
}
console.log(JSON.stringify(out));
process.exit(0);
