/**
 * @module sequence: the messages between the actors a developer picked, as a
 * sequence diagram: one lifeline per actor, one arrow per event, newest at
 * the bottom. Events from outside the actor system (the transport) come from
 * the leftmost lifeline.
 */
import { clock, eventName } from './format.js';
import { arrowMarker, s } from './svg.js';
import type { EventSummary } from './types.js';

export const OUTSIDE = '(transport)';
const COLUMN = 170;
const HEAD = 44;
const ROW = 26;
/** The newest events drawn; older ones are in the event log below. */
export const SEQUENCE_ROWS = 24;

export interface Lifeline {
  id: string;
  label: string;
}

/** The events among `lifelines`, newest last, at most {@link SEQUENCE_ROWS}. */
export function sequenceEvents(events: readonly EventSummary[], lifelines: readonly Lifeline[]): EventSummary[] {
  const ids = new Set(lifelines.map((line) => line.id));
  const picked: EventSummary[] = [];
  for (let index = events.length - 1; index >= 0 && picked.length < SEQUENCE_ROWS; index -= 1) {
    const event = events[index]!;
    if (ids.has(event.target) && (event.source === null || ids.has(event.source))) picked.push(event);
  }
  return picked.reverse();
}

export function renderSequence(lifelines: readonly Lifeline[], events: readonly EventSummary[]): SVGSVGElement {
  const lines = [{ id: OUTSIDE, label: 'outside (transport)' }, ...lifelines];
  const column = new Map(lines.map((line, index) => [line.id, index]));
  const width = lines.length * COLUMN;
  const height = HEAD + Math.max(1, events.length) * ROW + 12;
  const center = (index: number) => index * COLUMN + COLUMN / 2;
  const svg = s('svg', { class: 'sequence', viewBox: `0 0 ${width} ${height}`, width, height, role: 'group', 'aria-label': 'Sequence diagram' });
  svg.append(s('defs', {}, arrowMarker('seq-arrow', 'arrowhead')));
  lines.forEach((line, index) => {
    const x = center(index);
    const text = line.label.length > 22 ? `${line.label.slice(0, 21)}…` : line.label;
    svg.append(
      s('g', { class: 'lifeline', role: 'group', 'aria-label': `lifeline ${line.label}` },
        s('rect', { x: x - COLUMN / 2 + 6, y: 4, width: COLUMN - 12, height: 26, rx: 5, ry: 5 }),
        s('text', { x, y: 22, 'text-anchor': 'middle' }, text),
        s('line', { x1: x, y1: 30, x2: x, y2: height })),
    );
  });
  const list = s('g', { role: 'list', 'aria-label': 'messages, oldest first' });
  svg.append(list);
  events.forEach((event, row) => {
    const from = column.get(event.source ?? OUTSIDE) ?? 0;
    const to = column.get(event.target) ?? 0;
    const y = HEAD + row * ROW + 14;
    const label = `${eventName(event)}`;
    const group = s('g', { class: 'message', role: 'listitem', 'aria-label': `${event.source ?? OUTSIDE} → ${event.target}: ${label} at ${clock(event.at)}` });
    if (from === to) {
      const x = center(from);
      group.append(s('path', { d: `M ${x} ${y - 6} h 24 v 10 h -22`, 'marker-end': 'url(#seq-arrow)' }));
      group.append(s('text', { x: x + 30, y: y + 2 }, label));
    } else {
      const [x1, x2] = [center(from), center(to)];
      group.append(s('path', { d: `M ${x1} ${y} L ${x2 + (x2 > x1 ? -2 : 2)} ${y}`, 'marker-end': 'url(#seq-arrow)' }));
      group.append(s('text', { x: (x1 + x2) / 2, y: y - 4, 'text-anchor': 'middle' }, label));
    }
    group.append(s('text', { class: 'time', x: 4, y: y + 4 }, clock(event.at).slice(3)));
    list.append(group);
  });
  return svg;
}
