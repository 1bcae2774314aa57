/**
 * @module readme.test: the README's actor tree against the running code, so
 * that the picture a reader learns the system from stays true when actors
 * are added, merged or renamed.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { channelMachine } from '../machines/channel.machine.js';
import { serverMachine } from '../machines/server.machine.js';
import { sessionMachine } from '../machines/session.machine.js';
import { supervisorMachine } from '../machines/supervisor.machine.js';
import type { AnyActorRef } from 'xstate';
import { useServer } from './support/server.js';

const start = useServer();
const README = new URL('../README.md', import.meta.url);

/** The statechart behind each kind of actor; the outbox is a callback actor and has none. */
const MACHINES: Record<string, { config: { states?: Record<string, unknown> } } | undefined> = {
  server: serverMachine,
  supervisor: supervisorMachine,
  session: sessionMachine,
  channel: channelMachine,
  outbox: undefined,
};

interface TreeEntry {
  kind: string;
  states: string[];
}

/** The ids of `actor`'s children, and of theirs, at every depth. */
function descendants(actor: AnyActorRef): string[] {
  const children = (actor.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> }).children ?? {};
  return Object.entries(children).flatMap(([id, child]) => [id, ...(child ? descendants(child) : [])]);
}

/** The actors of the README's tree, by kind (`session:1` is a `session`), with the states each line names. */
async function readmeTree(): Promise<{ entries: TreeEntry[]; text: string }> {
  const text = await readFile(README, 'utf8');
  const section = text.slice(text.indexOf('## The actor tree'));
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const entries: TreeEntry[] = [];
  let previous: TreeEntry | undefined;
  for (const line of block.split('\n').filter(Boolean)) {
    const name = /^(?:[│ ]*[├└]── )?(\S+)/.exec(line)?.[1] ?? '';
    const states = [...line.matchAll(/(\w+)(?= →)|(?<=→ )(\w+)/g)].map((match) => match[0]);
    const kind = name.split(':')[0]!;
    const entry = { kind, states };
    if (previous?.kind === kind) previous.states.push(...states);
    else entries.push((previous = entry));
  }
  return { entries, text };
}

describe('the README', () => {
  it('draws the actor tree a running server has: the same kinds of actor, each with its machine’s states', async () => {
    const { server, login } = await start();
    const alice = await login('alice');
    alice.send({ type: 4, channel: '#django' });
    await alice.next();
    const running = new Set(
      ['server', ...descendants(server.actor)].map((id) => id.split(':')[0]!),
    );

    const { entries } = await readmeTree();
    expect(new Set(entries.map((entry) => entry.kind))).toEqual(running);
    for (const { kind, states } of entries) {
      expect(Object.keys(MACHINES), `the README names a ${kind} actor this test does not know`).toContain(kind);
      const machine = MACHINES[kind];
      expect(new Set(states), `states of ${kind}`).toEqual(new Set(Object.keys(machine?.config.states ?? {})));
    }
  });

  it('lists the same kinds of actor wherever it describes the inspector’s tree, and no socket actors', async () => {
    const { text } = await readmeTree();
    const listed = /live actor tree \(([^)]*)\)/.exec(text)?.[1];
    expect(listed).toBeDefined();
    expect(listed!.split(',').map((kind) => kind.trim())).toEqual(['server', 'outbox', 'supervisors', 'sessions', 'channels']);
    expect(text).not.toMatch(/socket actors?\b/i);
  });
});
