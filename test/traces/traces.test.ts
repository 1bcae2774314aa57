/**
 * @module traces.test: traces recorded from a live server with the
 * inspector's "Download trace", kept as regression tests (see
 * test/support/trace.ts). Add one line per trace.
 */
import { describe } from 'vitest';
import { traceTest } from '../support/trace.js';

describe('recorded traces', () => {
  // Alice (a guest) joins #django (where Bob is), talks, is refused twice (not_member, already_member), lists, leaves and logs out.
  traceTest('alice-joins-talks-and-leaves.json');
  // Carol's nick is registered: a wrong password, the right one, a password change, and logout. Every account call is answered from the trace.
  traceTest('carol-signs-in-and-changes-her-password.json');
  // Dave's nick is registered and he never logs in: the authentication timeout fires (recorded with --auth-timeout-ms 300) where it did.
  traceTest('dave-never-logs-in-and-times-out.json');
});
