/**
 * @module gc-hook: preloaded into both servers under test (never into the
 * product) so the idle scenario can ask for a full garbage collection before
 * reading resident memory, on both servers alike: what is measured is memory
 * held per session, not garbage left over from the login broadcasts.
 */
const collect = (globalThis as { gc?: () => void }).gc;
if (collect) {
  process.on('SIGUSR2', () => {
    collect();
    collect();
  });
}
