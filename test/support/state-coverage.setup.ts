/**
 * @module state-coverage.setup: loaded by vitest only under `npm run
 * coverage:states` (see vitest.config.ts). It turns inspection on for every
 * actor any test creates, through servers or directly in machine tests, and
 * counts the states and transitions they take (src/state-coverage/collector.ts).
 */
import { afterAll, vi } from 'vitest';
import { stateCoverageObserver, writeStateCoverage } from '../../src/state-coverage/collector.js';

vi.mock('xstate', async (importOriginal) => {
  const xstate = await importOriginal<typeof import('xstate')>();
  const observe = stateCoverageObserver();
  if (!observe) return xstate;
  const createActor: typeof xstate.createActor = (logic, ...[options]) => {
    const own = options?.inspect;
    const inspect = (event: Parameters<typeof observe>[0]) => {
      observe(event);
      if (typeof own === 'function') own(event);
      else own?.next?.(event);
    };
    return xstate.createActor(logic, { ...options, inspect } as never);
  };
  return { ...xstate, createActor };
});

afterAll(() => writeStateCoverage());
