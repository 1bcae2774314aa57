/**
 * @module inspector: the live actor inspector page at `/inspector`.
 *
 * It mirrors what `src/inspection/hub.ts` streams: the actor tree, each
 * machine's statechart with the current state lit, contexts, the messages
 * between actors as a sequence diagram and a log, and, on request, an
 * actor's history to travel through. Everything is rendered as text nodes;
 * nicks and channel names come from users. Updates arrive in batches and are
 * drawn at most once per animation frame, and long lists are virtualised, so
 * the page stays responsive under heavy traffic.
 */

import { byId, h } from '../dom.js';
import { renderDiagram } from './diagram.js';
import { activePaths, clock, describeState, describeValue, eventFields, eventName } from './format.js';
import { renderSequence, sequenceEvents, type Lifeline } from './sequence.js';
import type { ActorView, Diagram, EventSummary, History, HistoryEntry, Message } from './types.js';
import { VirtualList } from './virtual-list.js';

/** Events the page keeps for its log and sequence view; older ones are counted as dropped. */
const MAX_EVENTS = 5_000;
/** Actors offered in the event filter: beyond that, find the actor and filter from its detail. */
const MAX_FILTER_OPTIONS = 300;
const RETRY_MS = 1000;
const TREE_ROW = 30;
const EVENT_ROW = 24;
const PHONE_EVENT_ROW = 42;
const HISTORY_REFRESH_MS = 1000;

const ui = {
  node: byId<HTMLParagraphElement>('node'),
  status: byId<HTMLParagraphElement>('status'),
  bodies: byId<HTMLParagraphElement>('bodies'),
  find: byId<HTMLInputElement>('find'),
  findResult: byId<HTMLParagraphElement>('find-result'),
  tree: byId<HTMLDivElement>('tree'),
  count: byId<HTMLSpanElement>('actor-count'),
  heading: byId<HTMLHeadingElement>('detail-heading'),
  detailState: byId<HTMLParagraphElement>('detail-state'),
  travelBanner: byId<HTMLParagraphElement>('travel-banner'),
  travelText: byId<HTMLSpanElement>('travel-text'),
  travelLive: byId<HTMLButtonElement>('travel-live'),
  chart: byId<HTMLDivElement>('chart'),
  caption: byId<HTMLParagraphElement>('chart-caption'),
  addSequence: byId<HTMLButtonElement>('add-sequence'),
  download: byId<HTMLAnchorElement>('download-trace'),
  context: byId<HTMLDListElement>('context'),
  travelSummary: byId<HTMLParagraphElement>('travel-summary'),
  travelLoad: byId<HTMLButtonElement>('travel-load'),
  travelEarlier: byId<HTMLButtonElement>('travel-earlier'),
  travelLater: byId<HTMLButtonElement>('travel-later'),
  travelList: byId<HTMLDivElement>('travel-list'),
  sequenceSession: byId<HTMLButtonElement>('sequence-session'),
  sequenceClear: byId<HTMLButtonElement>('sequence-clear'),
  sequenceActors: byId<HTMLUListElement>('sequence-actors'),
  sequence: byId<HTMLDivElement>('sequence'),
  filter: byId<HTMLSelectElement>('event-filter'),
  eventCount: byId<HTMLSpanElement>('event-count'),
  dropped: byId<HTMLParagraphElement>('dropped'),
  events: byId<HTMLDivElement>('events'),
};

const state = {
  diagrams: new Map<string, Diagram>(),
  actors: new Map<string, ActorView>(),
  events: [] as EventSummary[],
  /** Events the page will never show: out of the server's window before connecting, skipped under load, or past MAX_EVENTS. */
  dropped: 0,
  selected: null as string | null,
  history: null as History | null,
  /** The history entry shown instead of the live state, or null for live. */
  travel: null as number | null,
  /** Actor ids on the sequence diagram, in order. */
  sequence: [] as string[],
  bodies: false,
  eventWindow: 0,
  eventsPerSecond: 0,
};

// ---- drawing, at most once per frame -------------------------------------------

const dirty = { tree: false, detail: false, events: false, sequence: false };
let frame = 0;
function invalidate(...parts: (keyof typeof dirty)[]): void {
  for (const part of parts) dirty[part] = true;
  if (frame === 0) frame = requestAnimationFrame(draw);
}
function draw(): void {
  frame = 0;
  if (dirty.tree) renderTree();
  if (dirty.detail) renderDetail();
  if (dirty.events) renderEvents();
  if (dirty.sequence) renderSequenceView();
  Object.assign(dirty, { tree: false, detail: false, events: false, sequence: false });
}

// ---- actors: tree and find -----------------------------------------------------

interface TreeRow {
  actor: ActorView;
  depth: number;
}

const treeList = new VirtualList<TreeRow>(ui.tree, () => TREE_ROW, ({ actor, depth }) => {
  const button = h(
    'button',
    {
      type: 'button',
      class: `actor depth-${Math.min(depth, 4)}${actor.endedAt !== null ? ' ended' : ''}`,
      'data-actor': actor.id,
      'aria-pressed': String(actor.sessionId === state.selected),
      title: actor.endedAt !== null ? `ended at ${clock(actor.endedAt)}` : actor.label,
    },
    h('span', { class: 'actor-id' }, actor.label),
    ' ',
    h('span', { class: 'actor-state' }, actor.endedAt !== null ? `${describeState(actor.value)} (ended)` : describeState(actor.value)),
  );
  button.addEventListener('click', () => select(actor.sessionId));
  return h('div', { role: 'listitem', class: 'tree-row' }, button);
});

function treeRows(): TreeRow[] {
  const query = ui.find.value.trim().toLowerCase();
  if (query !== '') {
    return [...state.actors.values()]
      .filter((actor) => actor.label.toLowerCase().includes(query))
      .sort((a, b) => Number(a.endedAt !== null) - Number(b.endedAt !== null) || a.label.localeCompare(b.label))
      .map((actor) => ({ actor, depth: 0 }));
  }
  const children = new Map<string | null, ActorView[]>();
  for (const actor of state.actors.values()) {
    const parent = actor.parent !== null && state.actors.has(actor.parent) ? actor.parent : null;
    const list = children.get(parent) ?? [];
    list.push(actor);
    children.set(parent, list);
  }
  const rows: TreeRow[] = [];
  const visit = (parent: string | null, depth: number) => {
    for (const actor of children.get(parent) ?? []) {
      rows.push({ actor, depth });
      visit(actor.sessionId, depth + 1);
    }
  };
  visit(null, 0);
  return rows;
}

function renderTree(): void {
  const rows = treeRows();
  treeList.setItems(rows);
  const live = [...state.actors.values()].filter((actor) => actor.endedAt === null).length;
  ui.count.textContent = `(${live} live${state.actors.size > live ? `, ${state.actors.size - live} ended` : ''})`;
  const query = ui.find.value.trim();
  ui.findResult.textContent = query === '' ? '' : rows.length === 0 ? `Nothing matches “${query}”.` : `${rows.length} match${rows.length === 1 ? '' : 'es'}; Enter opens the first.`;
  renderFilterOptions();
}

ui.find.addEventListener('input', () => invalidate('tree'));
ui.find.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter') return;
  const first = treeRows()[0];
  if (first) select(first.actor.sessionId);
});

function select(sessionId: string): void {
  state.selected = sessionId;
  state.history = null;
  state.travel = null;
  invalidate('tree', 'detail');
  void loadHistory();
  requestAnimationFrame(() => ui.tree.querySelector<HTMLButtonElement>('button[aria-pressed="true"]')?.focus());
}

/** The live actor with this id, or the latest ended one. */
function actorById(id: string): ActorView | undefined {
  let found: ActorView | undefined;
  for (const actor of state.actors.values()) if (actor.id === id && (!found || found.endedAt !== null)) found = actor;
  return found;
}

function sessionByNick(nick: string): ActorView | undefined {
  let found: ActorView | undefined;
  for (const actor of state.actors.values()) {
    if (actor.machine === 'session' && actor.context.nick === nick && (!found || found.endedAt !== null)) found = actor;
  }
  return found;
}

// ---- detail: statechart, context, time travel ----------------------------------

function shownEntry(): HistoryEntry | undefined {
  return state.travel === null ? undefined : state.history?.entries[state.travel];
}

/** The state and context right after entry `index`: an event sent changes nothing, so look back to the last one received. */
function stateAt(index: number): { value: unknown; context: Record<string, unknown>; transitions: string[] } | undefined {
  const entries = state.history?.entries ?? [];
  for (let at = index; at >= 0; at -= 1) {
    const entry = entries[at]!;
    if (entry.dir === 'in' && entry.value !== undefined) {
      return { value: entry.value, context: entry.context ?? {}, transitions: at === index ? (entry.transitions ?? []) : [] };
    }
  }
  return undefined;
}

function transitionText(diagram: Diagram | undefined, ids: readonly string[]): string {
  if (ids.length === 0) return 'none (the event changed nothing)';
  return ids
    .map((id) => {
      const edge = diagram?.edges.find((candidate) => candidate.id === id);
      if (edge) return `${edge.label} (${edge.source || diagram!.machine} → ${edge.target})`;
      const line = diagram?.nodes.flatMap((node) => node.lines.map((item) => ({ node, item }))).find(({ item }) => item.id === id);
      return line ? `${line.item.text} (stays in ${line.node.path || diagram!.machine})` : id;
    })
    .join('; ');
}

function renderDetail(): void {
  const actor = state.selected === null ? undefined : state.actors.get(state.selected);
  ui.addSequence.disabled = !actor;
  ui.sequenceSession.disabled = actor?.machine !== 'session';
  ui.travelLoad.disabled = !actor;
  if (!actor) {
    ui.heading.textContent = 'Select an actor';
    ui.detailState.textContent = '';
    ui.chart.replaceChildren();
    ui.caption.textContent = '';
    ui.context.replaceChildren();
    ui.download.hidden = true;
    ui.travelBanner.hidden = true;
    renderTravelList();
    return;
  }
  const entry = shownEntry();
  const past = state.travel === null ? undefined : stateAt(state.travel);
  const value = past ? past.value : actor.value;
  const context = past ? past.context : actor.context;
  const taken = past ? past.transitions : actor.transitions;
  ui.heading.textContent = actor.label;
  ui.detailState.textContent = `state: ${describeState(actor.value)} · status: ${actor.status}${actor.endedAt !== null ? ` (ended at ${clock(actor.endedAt)})` : ''}`;
  ui.travelBanner.hidden = !entry;
  ui.travelText.textContent = entry
    ? `Showing the past: right after #${entry.seq} ${entry.dir === 'in' ? '' : 'sent '}${eventName(entry)} at ${clock(entry.at)} (${state.travel! + 1} of ${state.history!.entries.length}).`
    : '';
  const diagram = actor.machine === null ? undefined : state.diagrams.get(actor.machine);
  if (diagram) {
    ui.chart.replaceChildren(renderDiagram(diagram, { active: activePaths(value), taken: new Set(taken) }));
    ui.caption.textContent = `${past ? 'State then' : 'Current state'}: ${describeState(value)}. ${past ? 'Transition taken' : 'Last transition'}: ${transitionText(diagram, taken)}.`;
  } else {
    ui.chart.replaceChildren(h('p', { class: 'no-chart' }, actor.machine === null ? 'A callback actor: it has no states, only the events it receives.' : 'Laying out the statechart…'));
    ui.caption.textContent = '';
  }
  ui.download.hidden = false;
  ui.download.href = `/inspector/trace/${encodeURIComponent(actor.sessionId)}`;
  ui.download.setAttribute('download', `trace-${actor.id.replace(/[^a-zA-Z0-9_-]+/g, '-')}.json`);
  ui.context.replaceChildren(...Object.entries(context).flatMap(([key, item]) => [h('dt', {}, key), h('dd', {}, ...contextValue(actor, key, item))]));
  renderTravelList();
}

/** Channel names and nicks become buttons that jump to that channel or session. */
function contextValue(actor: ActorView, key: string, value: unknown): (Node | string)[] {
  if (!Array.isArray(value)) return [describeValue(value)];
  if (value.length === 0) return ['(none)'];
  const jump = (text: string, target: ActorView | undefined) => {
    if (!target) return h('span', { class: 'chip' }, text);
    const button = h('button', { type: 'button', class: 'jump', title: `Go to ${target.label}` }, text);
    button.addEventListener('click', () => select(target.sessionId));
    return button;
  };
  if (key === 'channels') return value.map((name) => jump(String(name), actorById(`channel:${String(name)}`)));
  if ((key === 'members' || key === 'sessions') && actor.machine !== 'session') return value.map((nick) => jump(String(nick), sessionByNick(String(nick))));
  return [value.join(', ')];
}

// ---- time travel ---------------------------------------------------------------

async function loadHistory(): Promise<void> {
  const sessionId = state.selected;
  if (sessionId === null) return;
  if (!state.history) ui.travelSummary.textContent = 'Loading its history…';
  try {
    const response = await fetch(`/inspector/history/${encodeURIComponent(sessionId)}`, { cache: 'no-store' });
    if (state.selected !== sessionId) return;
    if (!response.ok) {
      ui.travelSummary.textContent = (await response.text()).trim();
      return;
    }
    state.history = (await response.json()) as History;
    state.travel = null;
  } catch {
    if (state.selected === sessionId) ui.travelSummary.textContent = 'Could not load its history: the server is not answering. It will be loaded again when you select the actor.';
    return;
  }
  invalidate('detail');
}

/** While the selected actor is live and not being travelled through, its history follows it, at most once a second. */
let historyTimer = 0;
function refreshHistorySoon(): void {
  if (historyTimer !== 0 || state.travel !== null) return;
  historyTimer = window.setTimeout(() => {
    historyTimer = 0;
    if (state.travel === null) void loadHistory();
  }, HISTORY_REFRESH_MS);
}

function renderTravelList(): void {
  const history = state.history;
  const actor = state.selected === null ? undefined : state.actors.get(state.selected);
  ui.travelLoad.textContent = history ? 'Reload history' : 'Load history';
  ui.travelEarlier.disabled = !history || history.entries.length === 0 || state.travel === 0;
  ui.travelLater.disabled = !history || state.travel === null;
  if (!history || !actor) {
    ui.travelList.replaceChildren();
    if (!actor) ui.travelSummary.textContent = 'Select an actor to step through its history.';
    return;
  }
  ui.travelSummary.textContent =
    `${actor.label}: ${history.entries.length} event${history.entries.length === 1 ? '' : 's'} kept (at most ${history.capacity}, --inspect-history); ` +
    (history.dropped > 0 ? `${history.dropped} older dropped.` : 'none dropped.');
  const options = history.entries.map((entry, index) => {
    const selected = state.travel === index;
    const after = entry.dir === 'in' && entry.value !== undefined ? ` → ${describeState(entry.value)}` : '';
    const peer = entry.dir === 'in' ? `from ${entry.source ?? 'outside'}` : `sent to ${entry.target}`;
    const option = h(
      'button',
      { type: 'button', role: 'option', class: `travel-entry ${entry.dir}`, 'aria-selected': String(selected), 'data-index': String(index) },
      h('span', { class: 'time' }, clock(entry.at)),
      ' ',
      h('span', { class: 'event-name' }, eventName(entry)),
      ` ${peer}${after}`,
    );
    option.addEventListener('click', () => travelTo(index));
    return option;
  });
  ui.travelList.replaceChildren(...options);
  if (state.travel !== null) options[state.travel]?.scrollIntoView({ block: 'nearest' });
}

function travelTo(index: number | null): void {
  state.travel = index;
  invalidate('detail');
}

ui.travelLoad.addEventListener('click', () => void loadHistory());
ui.travelLive.addEventListener('click', () => travelTo(null));
ui.travelEarlier.addEventListener('click', () => {
  const length = state.history?.entries.length ?? 0;
  if (length > 0) travelTo(state.travel === null ? length - 1 : Math.max(0, state.travel - 1));
});
ui.travelLater.addEventListener('click', () => {
  if (state.travel === null) return;
  const length = state.history?.entries.length ?? 0;
  travelTo(state.travel + 1 >= length ? null : state.travel + 1);
});

// ---- sequence ------------------------------------------------------------------

function lifelines(): Lifeline[] {
  return state.sequence.map((id) => ({ id, label: actorById(id)?.label ?? id }));
}

function renderSequenceView(): void {
  const lines = lifelines();
  ui.sequenceActors.replaceChildren(
    ...lines.map((line) => {
      const remove = h('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove ${line.label} from the sequence` }, '×');
      remove.addEventListener('click', () => {
        state.sequence = state.sequence.filter((id) => id !== line.id);
        invalidate('sequence');
      });
      return h('li', { class: 'chip' }, line.label, ' ', remove);
    }),
  );
  if (lines.length === 0) {
    ui.sequence.replaceChildren(h('p', { class: 'hint' }, 'No actors picked yet.'));
    return;
  }
  const events = sequenceEvents(state.events, lines);
  ui.sequence.replaceChildren(
    events.length === 0 ? h('p', { class: 'hint' }, 'No messages between these actors yet.') : renderSequence(lines, events),
  );
}

function addToSequence(...ids: string[]): void {
  for (const id of ids) if (!state.sequence.includes(id)) state.sequence.push(id);
  invalidate('sequence');
}

ui.addSequence.addEventListener('click', () => {
  const actor = state.selected === null ? undefined : state.actors.get(state.selected);
  if (actor) addToSequence(actor.id);
});
ui.sequenceSession.addEventListener('click', () => {
  const actor = state.selected === null ? undefined : state.actors.get(state.selected);
  if (!actor) return;
  const channels = Array.isArray(actor.context.channels) ? actor.context.channels.map((name) => `channel:${String(name)}`) : [];
  // What a session sends the server goes through its supervisor, its parent.
  const supervisor = actor.parent === null ? undefined : state.actors.get(actor.parent);
  const roots = [...state.actors.values()].filter((other) => other.parent === null).map((root) => root.id);
  state.sequence = [actor.id, ...(supervisor ? [supervisor.id] : []), ...channels, ...roots, 'outbox'];
  state.sequence = [...new Set(state.sequence)];
  invalidate('sequence');
});
ui.sequenceClear.addEventListener('click', () => {
  state.sequence = [];
  invalidate('sequence');
});

// ---- event log -----------------------------------------------------------------

/** Actor ids to what people call them (`session:3 · alice`), for the log's rows; the last actor with an id wins. */
const labels = new Map<string, string>();
const labelled = (id: string) => labels.get(id) ?? id;

/** On a phone a log row takes two lines (see inspector.css), so that labels fit. */
const phone = window.matchMedia('(max-width: 48rem)');
phone.addEventListener('change', () => invalidate('events'));

const eventList = new VirtualList<EventSummary>(ui.events, () => (phone.matches ? PHONE_EVENT_ROW : EVENT_ROW), (event) =>
  h(
    'div',
    { class: 'event-row' },
    h('span', { class: 'time' }, clock(event.at)),
    h('span', { class: 'source', title: labelled(event.source ?? '(transport)') }, labelled(event.source ?? '(transport)')),
    h('span', { class: 'target', title: labelled(event.target) }, labelled(event.target)),
    h('span', { class: 'event-name' }, eventName(event)),
    h('span', { class: 'fields' }, eventFields(event)),
  ),
);

function matchesFilter(event: EventSummary): boolean {
  const filter = ui.filter.value;
  return filter === '' || event.source === filter || event.target === filter;
}

function renderEvents(): void {
  const shown = ui.filter.value === '' ? state.events : state.events.filter(matchesFilter);
  eventList.setItems(shown, true);
  ui.eventCount.textContent = `${shown.length} shown`;
  ui.dropped.hidden = state.dropped === 0;
  ui.dropped.textContent =
    state.dropped === 0
      ? ''
      : `${state.dropped.toLocaleString('en')} older event${state.dropped === 1 ? ' was' : 's were'} dropped and ${state.dropped === 1 ? 'is' : 'are'} not shown here. ` +
        `The server keeps the latest ${state.eventWindow} for pages that open late and, under heavy traffic, sends pages at most ${state.eventsPerSecond.toLocaleString('en')} a second; this page keeps ${MAX_EVENTS.toLocaleString('en')}. ` +
        'Each actor’s own history is under Time travel.';
}

function renderFilterOptions(): void {
  const chosen = ui.filter.value;
  const live = [...state.actors.values()];
  const labels = new Map<string, string>();
  for (const actor of live) if (labels.size < MAX_FILTER_OPTIONS && (!labels.has(actor.id) || actor.endedAt === null)) labels.set(actor.id, actor.label);
  if (chosen !== '' && !labels.has(chosen)) labels.set(chosen, actorById(chosen)?.label ?? chosen);
  const ids = [...labels.keys()].sort();
  const current = [...ui.filter.options].slice(1).map((option) => `${option.value}=${option.textContent}`);
  if (current.join('\n') === ids.map((id) => `${id}=${labels.get(id)}`).join('\n')) return;
  ui.filter.replaceChildren(h('option', { value: '' }, 'every actor'), ...ids.map((id) => h('option', { value: id }, labels.get(id)!)));
  ui.filter.value = chosen;
}

ui.filter.addEventListener('change', () => invalidate('events'));

function addEvent(event: EventSummary): void {
  state.events.push(event);
  if (state.events.length > MAX_EVENTS) {
    state.events.splice(0, state.events.length - MAX_EVENTS);
    state.dropped += 1;
  }
}

// ---- connection ----------------------------------------------------------------

function handle(message: Message): void {
  switch (message.kind) {
    case 'hello':
      state.diagrams = new Map(message.diagrams.map((diagram) => [diagram.machine, diagram]));
      state.actors = new Map(message.actors.map((actor) => [actor.sessionId, actor]));
      for (const actor of message.actors) labels.set(actor.id, actor.label);
      state.events = [];
      state.dropped = message.droppedEvents;
      for (const event of message.events) addEvent(event);
      state.bodies = message.bodies;
      state.eventWindow = message.eventWindow;
      state.eventsPerSecond = message.eventsPerSecond;
      ui.bodies.textContent = message.bodies ? 'Message bodies shown (--inspect-bodies); secrets never.' : 'Message bodies and secrets redacted.';
      ui.node.textContent = message.node === null ? 'single node' : `node ${message.node}`;
      if (state.selected !== null && !state.actors.has(state.selected)) state.selected = null;
      if (state.selected === null) {
        const root = message.actors.find((actor) => actor.parent === null);
        if (root) select(root.sessionId);
      } else void loadHistory();
      invalidate('tree', 'detail', 'events', 'sequence');
      return;
    case 'batch':
      for (const inner of message.messages) handle(inner);
      return;
    case 'diagram':
      state.diagrams.set(message.diagram.machine, message.diagram);
      invalidate('detail');
      return;
    case 'actor':
      state.actors.set(message.actor.sessionId, message.actor);
      labels.set(message.actor.id, message.actor.label);
      invalidate('tree', 'sequence');
      return;
    case 'snapshot': {
      const actor = state.actors.get(message.sessionId);
      if (!actor) return;
      const { kind: _kind, ...changes } = message;
      Object.assign(actor, changes);
      labels.set(actor.id, actor.label);
      invalidate('tree');
      if (message.sessionId === state.selected) {
        invalidate('detail');
        refreshHistorySoon();
      }
      return;
    }
    case 'ended': {
      const actor = state.actors.get(message.sessionId);
      if (!actor) return;
      Object.assign(actor, { status: message.status, value: message.value ?? actor.value, endedAt: message.endedAt, transitions: message.transitions });
      invalidate('tree');
      if (message.sessionId === state.selected) invalidate('detail');
      return;
    }
    case 'forgotten':
      state.actors.delete(message.sessionId);
      if (state.selected === message.sessionId) state.selected = null;
      invalidate('tree', 'detail');
      return;
    case 'skipped':
      state.dropped += message.count;
      invalidate('events');
      return;
    case 'event': {
      const { kind: _kind, ...event } = message;
      addEvent(event);
      invalidate('events', 'sequence');
      return;
    }
  }
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
