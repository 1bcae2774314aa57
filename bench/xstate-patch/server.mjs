// The server's actor system, from the built dist/, as sessmem.mjs and msgcost.mjs measure it (connections are theirs to fake).
const { createActor } = await import('xstate');
const D = new URL('../../dist', import.meta.url).pathname;
const { serverMachine } = await import(`${D}/machines/server.machine.js`);
const { withEffects } = await import(`${D}/src/effects.js`);
const { Accounts } = await import(`${D}/src/accounts/accounts.js`);
export const { MemoryStore } = await import(`${D}/src/store/memory.js`);
export const { SqliteStore } = await import(`${D}/src/store/sqlite.js`);
export const { parseClientFrame } = await import(`${D}/src/protocol.js`);

export function startServer(store) {
  const machine = withEffects(serverMachine, new Accounts(store, {}), { outbox: { history: store, historyOnJoin: 0, recoveryLimit: 0 } });
  return createActor(machine, { input: {} }).start();
}
