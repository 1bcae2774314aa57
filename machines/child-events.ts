/**
 * @module child-events: reading XState's `xstate.done.actor.*` and `xstate.error.actor.*` events.
 */

/** The child id inside an `xstate.done.actor.*` or `xstate.error.actor.*` event type. */
export function childId(eventType: string): string {
  return eventType.replace(/^xstate\.(done|error)\.actor\./, '');
}
