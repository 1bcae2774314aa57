/**
 * @module stately: `--inspect=stately`: connects the actor system to the
 * Stately inspector through `@statelyai/inspect`'s WebSocket relay, for
 * developers who prefer Stately's own visualiser to `/inspector`.
 *
 * The relay is a small HTTP + WebSocket server from the same package: the
 * actor system sends it inspection events, and the page it serves embeds the
 * Stately inspector and feeds it those events. The same redaction as for the
 * local inspector applies before anything reaches it.
 */
import { createServer } from 'node:net';
import { createWebSocketInspector } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import type { InspectionEvent } from 'xstate';
import { summariseContext, summariseEvent, summariseWholeSnapshot } from './summary.js';
import { RelayPortInUseError } from './relay-error.js';

/** The relay's port: the package's own default. */
export const STATELY_RELAY_PORT = 8080;

export interface StatelyConnection {
  /** The observer for `createActor(machine, { inspect })`. */
  inspect: (inspection: InspectionEvent) => void;
  /** The page to open in a browser. */
  url: string;
  stop(): void;
}

export async function connectStately(options: { bodies: boolean; relayPort?: number }): Promise<StatelyConnection> {
  const port = options.relayPort ?? STATELY_RELAY_PORT;
  // The relay does not report a busy port (it would crash the process), so look first.
  await assertPortFree(port);
  const relay = createInspectorServer({ port, autoOpen: false });
  const inspector = createWebSocketInspector({
    url: `ws://127.0.0.1:${port}`,
    sanitizeEvent: (event) => summariseEvent(event, options.bodies) as typeof event,
    sanitizeContext: (context) => summariseContext(context),
    // The package passes the rest of a snapshot through as it is: an invoked account call's input holds
    // the password being checked, and a login's output the new resume token. Summarise it whole.
    serialize: (event) =>
      event.type === '@xstate.actor' || event.type === '@xstate.snapshot'
        ? ({ ...event, snapshot: summariseWholeSnapshot(event.snapshot, options.bodies) } as typeof event)
        : event,
  });
  return {
    inspect: (inspection) => {
      // The package serialises later, by which time a context mutated in place has moved on: summarise now.
      if (inspection.type === '@xstate.snapshot') {
        const snapshot = inspection.snapshot as { context?: unknown };
        inspection = { ...inspection, snapshot: { ...snapshot, context: summariseContext(snapshot.context) } as unknown as typeof inspection.snapshot };
      }
      inspector.inspect.next?.(inspection);
    },
    url: `http://localhost:${port}`,
    stop() {
      inspector.stop();
      relay.stop();
    },
  };
}


function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', () =>
      reject(
        new RelayPortInUseError(
          `Port ${port}, which the Stately inspector relay uses, is in use. Stop whatever listens there, or use --inspect for the built-in inspector.`,
        ),
      ),
    );
    probe.listen(port, () => probe.close(() => resolve()));
  });
}
