/**
 * @module inspector: the live actor inspector page at `/inspector`.
 *
 * It mirrors what `src/inspection/hub.ts` streams: the actor tree, each
 * machine's statechart with the active states lit, contexts, and the messages
 * between actors. Everything is rendered as text nodes; nicks and channel
 * names come from users.
 */

import { byId, h } from '../dom.js';

interface ActorSummary {
  sessionId: string;
  id: string;
  parent: string | null;
  machine: string | null;
  status: string;
  value: unknown;
  context: Record<string, unknown>;
}

interface EventSummary {
  source: string | null;
  target: string;
  type: string;
  event: Record<string, unknown>;
}

interface StateNodeChart {
  key: string;
  type: string;
  initial: string | null;
  transitions: { event: string; targets: string[] }[];
  states: StateNodeChart[];
}

type Message =
  | { kind: 'hello'; bodies: boolean; charts: Record<string, StateNodeChart>; actors: ActorSummary[]; events: EventSummary[] }
  | { kind: 'chart'; machine: string; chart: StateNodeChart }
  | { kind: 'actor'; actor: ActorSummary }
  | { kind: 'snapshot'; sessionId: string; status: string; value: unknown; context: Record<string, unknown> }
  | { kind: 'ended'; sessionId: string; status: string; value: unknown }
  | ({ kind: 'event' } & EventSummary);

/** How long an ended actor stays on screen, greyed, so its last state can be read. */
const ENDED_LINGER_MS = 1500;
const MAX_ROWS = 500;
const RETRY_MS = 1000;

const ui = {
  status: byId<HTMLParagraphElement>('status'),
  bodies: byId<HTMLParagraphElement>('bodies'),
  tree: byId<HTMLUListElement>('tree'),
  count: byId<HTMLSpanElement>('actor-count'),
  heading: byId<HTMLHeadingElement>('detail-heading'),
  detailState: byId<HTMLParagraphElement>('detail-state'),
  chart: byId<HTMLDivElement>('chart'),
  context: byId<HTMLDListElement>('context'),
  filter: byId<HTMLSelectElement>('event-filter'),
  events: byId<HTMLTableSectionElement>('events'),
};

const state = {
  charts: new Map<string, StateNodeChart>(),
  actors: new Map<string, ActorSummary & { ended: boolean }>(),
  events: [] as EventSummary[],
  selected: null as string | null,
};

/** `'active'` or `{ a: 'b' }` as the set of dotted paths it makes active: `active`, or `a` and `a.b`. */
function activePaths(value: unknown, prefix = ''): Set<string> {
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

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

// ---- tree ----------------------------------------------------------------------

function renderTree(): void {
  const children = new Map<string | null, (ActorSummary & { ended: boolean })[]>();
  for (const actor of state.actors.values()) {
    const parent = actor.parent !== null && state.actors.has(actor.parent) ? actor.parent : null;
    const list = children.get(parent) ?? [];
    list.push(actor);
    children.set(parent, list);
  }
  const build = (parent: string | null): HTMLLIElement[] =>
    (children.get(parent) ?? []).map((actor) => {
      const button = h(
        'button',
        {
          type: 'button',
          class: `actor${actor.ended ? ' ended' : ''}`,
          'data-actor': actor.id,
          'aria-pressed': String(actor.sessionId === state.selected),
        },
        h('span', { class: 'actor-id' }, actor.id),
        ' ',
        h('span', { class: 'actor-state' }, actor.ended ? `${describeValue(actor.value)} (${actor.status})` : describeValue(actor.value)),
      );
      button.addEventListener('click', () => select(actor.sessionId));
      const item = h('li', {}, button);
      const nested = build(actor.sessionId);
      if (nested.length > 0) item.append(h('ul', {}, ...nested));
      return item;
    });
  ui.tree.replaceChildren(...build(null));
  ui.count.textContent = `(${[...state.actors.values()].filter((actor) => !actor.ended).length})`;
  renderFilterOptions();
}

function select(sessionId: string): void {
  state.selected = sessionId;
  renderTree();
  renderDetail();
  const button = ui.tree.querySelector<HTMLButtonElement>('button[aria-pressed="true"]');
  button?.focus();
}

// ---- detail: statechart and context ----------------------------------------

function renderDetail(): void {
  const actor = state.selected === null ? undefined : state.actors.get(state.selected);
  if (!actor) {
    ui.heading.textContent = 'Select an actor';
    ui.detailState.textContent = '';
    ui.chart.replaceChildren();
    ui.context.replaceChildren();
    return;
  }
  ui.heading.textContent = actor.id;
  ui.detailState.textContent = `state: ${describeValue(actor.value)} · status: ${actor.status}${actor.ended ? ' (ended)' : ''}`;
  const chart = actor.machine === null ? undefined : state.charts.get(actor.machine);
  ui.chart.replaceChildren(
    chart
      ? renderStateNode(chart, activePaths(actor.value), '', true)
      : h('p', { class: 'no-chart' }, 'A callback actor: it has no states, only the events it receives.'),
  );
  ui.context.replaceChildren(
    ...Object.entries(actor.context).flatMap(([key, value]) => [
      h('dt', {}, key),
      h('dd', {}, Array.isArray(value) ? (value.length > 0 ? value.join(', ') : '(none)') : describeValue(value)),
    ]),
  );
}

function renderStateNode(node: StateNodeChart, active: Set<string>, path: string, root = false): HTMLElement {
  const isActive = !root && active.has(path);
  const box = h('div', {
    class: `state${root ? ' machine' : ''}${isActive ? ' active-state' : ''}${node.type === 'final' ? ' final' : ''}`,
    'data-state': root ? node.key : path,
  });
  const title = h('div', { class: 'state-name' }, root ? `machine ${node.key}` : node.key);
  if (!root && node.type === 'final') title.append(h('span', { class: 'tag' }, ' final'));
  box.append(title);
  if (node.transitions.length > 0) {
    box.append(
      h(
        'ul',
        { class: 'transitions' },
        ...node.transitions.map((transition) =>
          h(
            'li',
            {},
            h('span', { class: 'event-name' }, transition.event),
            transition.targets.length > 0 ? ` → ${transition.targets.join(', ')}` : '',
          ),
        ),
      ),
    );
  }
  if (node.states.length > 0) {
    const children = h('div', { class: 'substates' });
    for (const child of node.states) {
      const childPath = path === '' ? child.key : `${path}.${child.key}`;
      const rendered = renderStateNode(child, active, childPath);
      if (child.key === node.initial) rendered.classList.add('initial');
      children.append(rendered);
    }
    box.append(children);
  }
  return box;
}

// ---- event log -----------------------------------------------------------------

function matchesFilter(event: EventSummary): boolean {
  const filter = ui.filter.value;
  return filter === '' || event.source === filter || event.target === filter;
}

function eventRow(event: EventSummary): HTMLTableRowElement {
  const { type: _type, ...fields } = event.event;
  const text = JSON.stringify(fields);
  return h(
    'tr',
    {},
    h('td', {}, event.source ?? '(transport)'),
    h('td', {}, event.target),
    h('td', { class: 'event-name' }, event.type),
    h('td', { class: 'fields' }, text.length > 160 ? `${text.slice(0, 160)}…` : text),
  );
}

function appendEvent(event: EventSummary): void {
  state.events.push(event);
  if (state.events.length > MAX_ROWS) state.events.shift();
  if (!matchesFilter(event)) return;
  const scroller = ui.events.closest('.event-scroll');
  const stick = scroller ? scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 4 : true;
  ui.events.append(eventRow(event));
  while (ui.events.rows.length > MAX_ROWS) ui.events.deleteRow(0);
  if (scroller && stick) scroller.scrollTop = scroller.scrollHeight;
}

function renderEvents(): void {
  ui.events.replaceChildren(...state.events.filter(matchesFilter).map(eventRow));
}

function renderFilterOptions(): void {
  const chosen = ui.filter.value;
  const ids = [...new Set([...state.actors.values()].map((actor) => actor.id))].sort();
  if (chosen !== '' && !ids.includes(chosen)) ids.push(chosen);
  const current = [...ui.filter.options].slice(1).map((option) => option.value);
  if (current.join('\n') === ids.join('\n')) return;
  ui.filter.replaceChildren(h('option', { value: '' }, 'every actor'), ...ids.map((id) => h('option', { value: id }, id)));
  ui.filter.value = chosen;
}

ui.filter.addEventListener('change', renderEvents);

// ---- connection ----------------------------------------------------------------

function handle(message: Message): void {
  switch (message.kind) {
    case 'hello':
      state.charts = new Map(Object.entries(message.charts));
      state.actors = new Map(message.actors.map((actor) => [actor.sessionId, { ...actor, ended: false }]));
      state.events = [];
      ui.events.replaceChildren();
      for (const event of message.events) appendEvent(event);
      ui.bodies.textContent = message.bodies ? 'Message bodies shown (--inspect-bodies).' : 'Message bodies redacted.';
      if (state.selected !== null && !state.actors.has(state.selected)) state.selected = null;
      if (state.selected === null) state.selected = message.actors.find((actor) => actor.parent === null)?.sessionId ?? null;
      break;
    case 'chart':
      state.charts.set(message.machine, message.chart);
      return;
    case 'actor':
      state.actors.set(message.actor.sessionId, { ...message.actor, ended: false });
      break;
    case 'snapshot': {
      const actor = state.actors.get(message.sessionId);
      if (!actor) return;
      Object.assign(actor, { status: message.status, value: message.value, context: message.context });
      break;
    }
    case 'ended': {
      const actor = state.actors.get(message.sessionId);
      if (!actor) return;
      Object.assign(actor, { status: message.status, value: message.value ?? actor.value, ended: true });
      window.setTimeout(() => {
        state.actors.delete(message.sessionId);
        if (state.selected === message.sessionId) state.selected = null;
        renderTree();
        renderDetail();
      }, ENDED_LINGER_MS);
      break;
    }
    case 'event': {
      const { kind: _kind, ...event } = message;
      appendEvent(event);
      return;
    }
  }
  renderTree();
  renderDetail();
}

function connect(): void {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(`${scheme}//${location.host}/inspector/socket`);
  socket.addEventListener('open', () => {
    ui.status.textContent = 'Live.';
    document.body.classList.remove('offline');
  });
  socket.addEventListener('message', (event) => {
    if (typeof event.data === 'string') handle(JSON.parse(event.data) as Message);
  });
  socket.addEventListener('close', () => {
    ui.status.textContent = `Disconnected from the server; retrying every ${RETRY_MS / 1000} s…`;
    document.body.classList.add('offline');
    window.setTimeout(connect, RETRY_MS);
  });
}

connect();

// A module, not a script: its names stay out of the global scope the other page's script shares at compile time.
export {};
