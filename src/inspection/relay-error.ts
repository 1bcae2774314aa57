/**
 * @module relay-error: the Stately relay's start-up error, apart from the
 * relay itself, so the CLI can recognise it without loading
 * `@statelyai/inspect` when nobody asked for that inspector.
 */
export class RelayPortInUseError extends Error {
  override name = 'RelayPortInUseError';
}
