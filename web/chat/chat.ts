/**
 * @module chat: the browser chat client served at `/`.
 *
 * One WebSocket per login, as docs/protocol.md describes. Everything a user
 * typed reaches the page as text nodes only (never markup), and the server
 * forbids inline scripts besides, so a hostile nick or message shows literally.
 */

import { byId, h } from '../dom.js';

type Frame = { type: number } & Record<string, unknown>;

/** The channels the original server offered. */
const SUGGESTED_CHANNELS = ['#django', '#flask', '#tornado'];

/** Reconnect delays: doubling from BASE up to CAP, each jittered so that a restarted server is not hit by every client at once. */
const RECONNECT_BASE_MS = 500;
const RECONNECT_CAP_MS = 15_000;

const CLOSE_LOGGED_OUT = 1000;
const CLOSE_REFUSED = 1008;

const SERVER_TAB = 'server';

interface Tab {
  name: string;
  button: HTMLButtonElement;
  panel: HTMLElement;
  log: HTMLOListElement;
  /** Null for the server tab, which has no members. */
  members: HTMLUListElement | null;
  nicks: string[];
}

const ui = {
  status: byId<HTMLParagraphElement>('status'),
  me: byId<HTMLParagraphElement>('me'),
  logout: byId<HTMLButtonElement>('logout'),
  loginView: byId<HTMLElement>('login-view'),
  loginForm: byId<HTMLFormElement>('login-form'),
  nick: byId<HTMLInputElement>('nick'),
  loginError: byId<HTMLParagraphElement>('login-error'),
  chatView: byId<HTMLElement>('chat-view'),
  joinForm: byId<HTMLFormElement>('join-form'),
  channelName: byId<HTMLInputElement>('channel-name'),
  datalist: byId<HTMLDataListElement>('channel-suggestions'),
  suggestions: byId<HTMLSpanElement>('suggestions'),
  tabs: byId<HTMLDivElement>('tabs'),
  panels: byId<HTMLDivElement>('panels'),
  chatError: byId<HTMLParagraphElement>('chat-error'),
  messageForm: byId<HTMLFormElement>('message-form'),
  messageLabel: byId<HTMLLabelElement>('message-label'),
  message: byId<HTMLInputElement>('message'),
  online: byId<HTMLUListElement>('online'),
  onlineCount: byId<HTMLSpanElement>('online-count'),
};

const state = {
  nick: '',
  socket: null as WebSocket | null,
  /** Logged in at least once with this nick: a dropped connection is then reconnected. */
  session: false,
  /** Logged in on the current socket. */
  online: false,
  loggingOut: false,
  attempt: 0,
  reconnectTimer: undefined as number | undefined,
  tabs: new Map<string, Tab>(),
  active: SERVER_TAB,
  nextRequestId: 1,
  /** What each request in flight was for, so an error can say which action failed. */
  requests: new Map<number, string>(),
  onlineNicks: [] as string[],
  /** Channels asked for again after a reconnect and not yet confirmed. */
  rejoining: new Set<string>(),
};

function setStatus(text: string): void {
  ui.status.textContent = text;
}

function time(): string {
  return new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function addLine(tabName: string, kind: string, ...parts: (Node | string)[]): void {
  const tab = state.tabs.get(tabName);
  if (!tab) return;
  const stick = tab.log.scrollTop + tab.log.clientHeight >= tab.log.scrollHeight - 4;
  tab.log.append(h('li', { class: `line ${kind}` }, h('time', {}, time()), ' ', ...parts));
  if (stick) tab.log.scrollTop = tab.log.scrollHeight;
  if (tabName !== state.active) tab.button.classList.add('unread');
}

function nickSpan(nick: string): HTMLSpanElement {
  return h('span', { class: 'nick' }, nick);
}

function renderList(list: HTMLUListElement, nicks: string[]): void {
  list.replaceChildren(...nicks.map((nick) => h('li', { class: nick === state.nick ? 'self' : '' }, nick)));
}

function renderOnline(): void {
  renderList(ui.online, state.onlineNicks);
  ui.onlineCount.textContent = `(${state.onlineNicks.length})`;
}

// ---- tabs ------------------------------------------------------------------

function openTab(name: string): Tab {
  const existing = state.tabs.get(name);
  if (existing) return existing;
  const index = state.tabs.size;
  const isChannel = name !== SERVER_TAB;
  const button = h(
    'button',
    { type: 'button', role: 'tab', id: `tab-${index}`, 'aria-controls': `panel-${index}`, 'aria-selected': 'false', tabindex: '-1' },
    isChannel ? name : 'Server',
  );
  const log = h('ol', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': `${isChannel ? name : 'Server'} messages` });
  const panel = h('section', { class: 'panel', role: 'tabpanel', id: `panel-${index}`, 'aria-labelledby': `tab-${index}`, hidden: '' });
  let members: HTMLUListElement | null = null;
  if (isChannel) {
    members = h('ul', { class: 'members', 'aria-label': `Members of ${name}` });
    const leave = h('button', { type: 'button', class: 'leave' }, `Leave ${name}`);
    leave.addEventListener('click', () => request({ type: 5, channel: name }, `leave ${name}`));
    panel.append(
      h('div', { class: 'panel-body' }, log, h('aside', { class: 'members-box' }, h('h3', {}, 'Members'), members, leave)),
    );
  } else {
    panel.append(h('div', { class: 'panel-body' }, log));
  }
  const tab: Tab = { name, button, panel, log, members, nicks: [] };
  button.addEventListener('click', () => selectTab(name));
  button.addEventListener('keydown', (event) => moveTabFocus(event, name));
  ui.tabs.append(button);
  ui.panels.append(panel);
  state.tabs.set(name, tab);
  return tab;
}

function selectTab(name: string, focus = false): void {
  if (!state.tabs.has(name)) return;
  state.active = name;
  for (const tab of state.tabs.values()) {
    const selected = tab.name === name;
    tab.button.setAttribute('aria-selected', String(selected));
    tab.button.tabIndex = selected ? 0 : -1;
    tab.panel.hidden = !selected;
    if (selected) {
      tab.button.classList.remove('unread');
      tab.log.scrollTop = tab.log.scrollHeight;
      if (focus) tab.button.focus();
    }
  }
  const channel = name !== SERVER_TAB;
  ui.message.disabled = !channel;
  ui.messageLabel.textContent = channel ? `Message to ${name}` : 'Message (pick a channel tab first)';
}

/** Arrow keys, Home and End move between tabs, as in the WAI-ARIA tabs pattern. */
function moveTabFocus(event: KeyboardEvent, from: string): void {
  const names = [...state.tabs.keys()];
  const index = names.indexOf(from);
  const next =
    event.key === 'ArrowRight' ? names[(index + 1) % names.length]
    : event.key === 'ArrowLeft' ? names[(index - 1 + names.length) % names.length]
    : event.key === 'Home' ? names[0]
    : event.key === 'End' ? names[names.length - 1]
    : undefined;
  if (next === undefined) return;
  event.preventDefault();
  selectTab(next, true);
}

function closeTab(name: string): void {
  const tab = state.tabs.get(name);
  if (!tab || name === SERVER_TAB) return;
  tab.button.remove();
  tab.panel.remove();
  state.tabs.delete(name);
  if (state.active === name) selectTab(SERVER_TAB);
}

function channelTabs(): Tab[] {
  return [...state.tabs.values()].filter((tab) => tab.name !== SERVER_TAB);
}

// ---- connection --------------------------------------------------------------

function socketUrl(nick: string): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/chat/login/${encodeURIComponent(nick)}`;
}

function connect(): void {
  const socket = new WebSocket(socketUrl(state.nick));
  state.socket = socket;
  state.online = false;
  socket.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return;
    let frame: Frame;
    try {
      frame = JSON.parse(event.data) as Frame;
    } catch {
      return;
    }
    handleFrame(frame);
  });
  socket.addEventListener('close', (event) => {
    if (state.socket !== socket) return;
    state.socket = null;
    onClosed(event.code);
  });
}

function send(frame: Frame): void {
  if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
  else showError('Not connected right now; try again once the connection is back.');
}

/** Sends a frame with a request id, remembering what it was for. */
function request(frame: Frame, what: string): void {
  const id = state.nextRequestId++;
  state.requests.set(id, what);
  send({ ...frame, id });
}

function onClosed(code: number): void {
  const wasOnline = state.online;
  state.online = false;
  if (state.loggingOut || code === CLOSE_LOGGED_OUT) {
    resetToLogin('Logged out.');
    return;
  }
  if (!state.session) {
    // Never got in: the error frame (if any) already explains; otherwise say what happened.
    if (ui.loginError.textContent === '') {
      ui.loginError.textContent = `Could not log in (the connection closed with code ${code}). Is the server running?`;
    }
    resetToLogin('Not connected.');
    return;
  }
  if (wasOnline) {
    for (const tab of state.tabs.values()) addLine(tab.name, 'notice', `Connection lost (code ${code}).`);
  }
  scheduleReconnect(code === CLOSE_REFUSED ? 'the server still holds the old session' : `code ${code}`);
}

function scheduleReconnect(reason: string): void {
  const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** state.attempt);
  const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  state.attempt += 1;
  setStatus(`Connection lost (${reason}). Reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${state.attempt})…`);
  document.body.classList.add('offline');
  window.clearTimeout(state.reconnectTimer);
  state.reconnectTimer = window.setTimeout(() => {
    setStatus(`Reconnecting (attempt ${state.attempt})…`);
    connect();
  }, delay);
}

function resetToLogin(status: string): void {
  window.clearTimeout(state.reconnectTimer);
  state.session = false;
  state.loggingOut = false;
  state.attempt = 0;
  for (const tab of channelTabs()) closeTab(tab.name);
  state.tabs.get(SERVER_TAB)?.log.replaceChildren();
  state.onlineNicks = [];
  renderOnline();
  document.body.classList.remove('offline');
  ui.chatView.hidden = true;
  ui.logout.hidden = true;
  ui.me.hidden = true;
  ui.loginView.hidden = false;
  setStatus(status);
  ui.nick.focus();
}

// ---- frames ------------------------------------------------------------------

function handleFrame(frame: Frame): void {
  switch (frame.type) {
    case 0:
      onMessage(String(frame.dest), String(frame.user), String(frame.message));
      break;
    case 2:
      onLogin(String(frame.user));
      break;
    case 3:
      onLogout(String(frame.user));
      break;
    case 4:
      onJoin(String(frame.channel), String(frame.user));
      break;
    case 5:
      onLeave(String(frame.channel), String(frame.user));
      break;
    case 6:
      onList(frame);
      break;
    case -1:
      onError(frame);
      break;
    default:
      break;
  }
}

function onMessage(channel: string, user: string, message: string): void {
  addLine(channel, user === state.nick ? 'message own' : 'message', nickSpan(user), ' ', h('span', { class: 'text' }, message));
}

function onLogin(user: string): void {
  if (user === state.nick && !state.online) {
    onLoggedIn();
    return;
  }
  if (!state.onlineNicks.includes(user)) state.onlineNicks.push(user);
  renderOnline();
  addLine(SERVER_TAB, 'presence', nickSpan(user), ' logged in.');
}

function onLoggedIn(): void {
  const reconnected = state.session;
  state.online = true;
  state.session = true;
  state.attempt = 0;
  document.body.classList.remove('offline');
  if (!reconnected) {
    ui.loginView.hidden = true;
    ui.chatView.hidden = false;
    ui.logout.hidden = false;
    ui.me.hidden = false;
    ui.me.textContent = `Logged in as ${state.nick}`;
    openTab(SERVER_TAB);
    selectTab(SERVER_TAB);
    addLine(SERVER_TAB, 'presence', 'You logged in as ', nickSpan(state.nick), '.');
    setStatus(`Connected as ${state.nick}.`);
    ui.channelName.focus();
    return;
  }
  const channels = channelTabs().map((view) => view.name);
  state.rejoining = new Set(channels);
  setStatus(channels.length > 0 ? `Reconnected; rejoining ${channels.join(', ')}…` : `Reconnected as ${state.nick}.`);
  addLine(SERVER_TAB, 'notice', 'Reconnected.');
  for (const channel of channels) request({ type: 4, channel }, `rejoin ${channel}`);
}

function onLogout(user: string): void {
  state.onlineNicks = state.onlineNicks.filter((nick) => nick !== user);
  renderOnline();
  addLine(SERVER_TAB, 'presence', nickSpan(user), ' logged out.');
}

function onJoin(channel: string, user: string): void {
  const rejoined = user === state.nick && state.tabs.has(channel);
  if (user === state.nick) openTab(channel);
  addLine(channel, 'presence', nickSpan(user), ` joined ${channel}.`);
  if (user === state.nick) {
    request({ type: 6, channel }, `list the members of ${channel}`);
    if (rejoined) {
      addLine(channel, 'notice', `Rejoined ${channel}.`);
      state.rejoining.delete(channel);
      if (state.rejoining.size === 0) {
        setStatus(`Reconnected as ${state.nick}; rejoined ${channelTabs().map((view) => view.name).join(', ')}.`);
      }
    } else {
      selectTab(channel);
      ui.message.focus();
    }
  } else {
    const view = state.tabs.get(channel);
    if (view && !view.nicks.includes(user)) {
      view.nicks.push(user);
      if (view.members) renderList(view.members, view.nicks);
    }
  }
}

function onLeave(channel: string, user: string): void {
  if (user === state.nick) {
    closeTab(channel);
    addLine(SERVER_TAB, 'presence', `You left ${channel}.`);
    return;
  }
  const view = state.tabs.get(channel);
  if (!view) return;
  view.nicks = view.nicks.filter((nick) => nick !== user);
  if (view.members) renderList(view.members, view.nicks);
  addLine(channel, 'presence', nickSpan(user), ` left ${channel}.`);
}

function onList(frame: Frame): void {
  if (typeof frame.id === 'number') state.requests.delete(frame.id);
  const users = Array.isArray(frame.users) ? frame.users.map(String) : [];
  if (typeof frame.channel === 'string') {
    const view = state.tabs.get(frame.channel);
    if (!view?.members) return;
    view.nicks = users;
    renderList(view.members, users);
  } else {
    state.onlineNicks = users;
    renderOnline();
  }
}

function onError(frame: Frame): void {
  const message = typeof frame.message === 'string' ? frame.message : 'The server refused that.';
  if (frame.code === 'invalid_nick' || frame.code === 'nick_taken') {
    if (!state.session) {
      ui.loginError.textContent = message;
      return;
    }
  }
  const what = typeof frame.id === 'number' ? state.requests.get(frame.id) : undefined;
  if (typeof frame.id === 'number') state.requests.delete(frame.id);
  showError(what ? `Could not ${what}: ${message}` : message);
}

function showError(text: string): void {
  ui.chatError.textContent = text;
  addLine(state.active, 'error', text);
}

// ---- user actions ------------------------------------------------------------

ui.loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const nick = ui.nick.value.trim();
  ui.loginError.textContent = '';
  if (nick === '') {
    ui.loginError.textContent = 'Type a nick first.';
    ui.nick.focus();
    return;
  }
  state.nick = nick;
  setStatus(`Connecting as ${nick}…`);
  connect();
});

ui.joinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const channel = ui.channelName.value.trim();
  if (channel === '') {
    showError('Type a channel name to join, such as #django.');
    return;
  }
  ui.chatError.textContent = '';
  request({ type: 4, channel }, `join ${channel}`);
  ui.channelName.value = '';
});

ui.messageForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (state.active === SERVER_TAB) return;
  const message = ui.message.value;
  if (message === '') return;
  ui.chatError.textContent = '';
  request({ type: 0, dest: state.active, message }, `send to ${state.active}`);
  ui.message.value = '';
});

ui.logout.addEventListener('click', () => {
  state.loggingOut = true;
  window.clearTimeout(state.reconnectTimer);
  if (state.socket?.readyState === WebSocket.OPEN) send({ type: 3 });
  else resetToLogin('Logged out.');
});

for (const channel of SUGGESTED_CHANNELS) {
  ui.datalist.append(h('option', { value: channel }));
  const button = h('button', { type: 'button', class: 'suggestion' }, channel);
  button.addEventListener('click', () => {
    ui.chatError.textContent = '';
    request({ type: 4, channel }, `join ${channel}`);
  });
  ui.suggestions.append(button);
}

ui.nick.focus();

// A module, not a script: its names stay out of the global scope the other page's script shares at compile time.
export {};
