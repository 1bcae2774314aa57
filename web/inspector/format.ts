/**
 * @module format: how the inspector writes values, times and events as text.
 */
import type { EventSummary } from './types.js';

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/**
 * A state value as the path people read in the diagram: `active.guest` for
 * `{ active: 'guest' }`, parallel regions joined by `, `; not as JSON.
 */
export function describeState(value: unknown): string {
  if (value === null || typeof value !== 'object') return describeValue(value);
  // A machine without states (a supervisor) has the value `{}`: like a callback actor, no state to show.
  if (Object.keys(value).length === 0) return describeValue(null);
  return Object.entries(value)
    .map(([key, child]) => (child !== null && typeof child === 'object' && Object.keys(child).length === 0 ? key : `${key}.${describeState(child)}`))
    .join(', ');
}

/** `'active'` or `{ a: 'b' }` as the set of dotted paths it makes active: `active`, or `a` and `a.b`. */
export function activePaths(value: unknown, prefix = ''): Set<string> {
  const paths = new Set<string>();
  if (typeof value === 'string') paths.add(prefix + value);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      paths.add(prefix + key);
      for (const path of activePaths(child, `${prefix}${key}.`)) paths.add(path);
    }
  }
  return paths;
}

/** Local wall-clock time with milliseconds: events a few ms apart must be told apart. */
export function clock(at: number): string {
  const date = new Date(at);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** The event's name, with an error frame's code, which is what a developer looks for. */
export function eventName(event: Pick<EventSummary, 'type' | 'event'>): string {
  const code = event.event.code;
  return typeof code === 'string' ? `${event.type} (${code})` : event.type;
}

export function eventFields(event: EventSummary): string {
  const { type: _type, ...fields } = event.event;
  const text = JSON.stringify(fields);
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}
