/**
 * @module chat: the browser chat client served at `/`.
 *
 * One WebSocket per login, as docs/protocol.md describes. Everything a user
 * typed reaches the page as text nodes only (never markup), and the server
 * forbids inline scripts besides, so a hostile nick or message shows literally.
 *
 * Nothing typed is lost to a dropped connection: messages wait, visibly, and
 * go out in order once the page is back (see outgoing.ts). Each problem is
 * said once, in words, next to what it concerns, and disappears when it no
 * longer holds: the connection in the status line, a channel name next to the
 * join field, a message next to the message box, a refused login on the login form.
 */

import { byId, h } from '../dom.js';
import { canonicalChannel, channelProblem, nickProblem } from './names.js';
import { OutgoingMessages, type Outgoing } from './outgoing.js';
import { Reconnector } from './reconnect.js';
import { explainRefusal, refusalOfClose, refusalOfError, type Refusal } from './refusals.js';
import { closeInWords, errorInWords, type Action } from './words.js';

type Frame = { type: number } & Record<string, unknown>;

/** The channels the original server offered. */
const SUGGESTED_CHANNELS = ['#django', '#flask', '#tornado'];

const CLOSE_LOGGED_OUT = 1000;

const SERVER_TAB = 'server';

interface Tab {
  name: string;
  button: HTMLButtonElement;
  panel: HTMLElement;
  log: HTMLOListElement;
  /** Null for the server tab, which has no members. */
  members: HTMLUListElement | null;
  leave: HTMLButtonElement | null;
  nicks: string[];
}

/** What a request in flight was for, so its error lands where it belongs and says what did not happen. */
interface Request {
  action: Action;
  channel?: string;
  /** A join the page sent by itself after reconnecting. */
  rejoin?: boolean;
}

const ui = {
  status: byId<HTMLParagraphElement>('status'),
  retry: byId<HTMLButtonElement>('retry'),
  me: byId<HTMLParagraphElement>('me'),
  logout: byId<HTMLButtonElement>('logout'),
  loginView: byId<HTMLElement>('login-view'),
  loginForm: byId<HTMLFormElement>('login-form'),
  nick: byId<HTMLInputElement>('nick'),
  loginError: byId<HTMLParagraphElement>('login-error'),
  startOver: byId<HTMLButtonElement>('start-over'),
  chatView: byId<HTMLElement>('chat-view'),
  joinForm: byId<HTMLFormElement>('join-form'),
  channelName: byId<HTMLInputElement>('channel-name'),
  joinButton: byId<HTMLButtonElement>('join-button'),
  joinError: byId<HTMLParagraphElement>('join-error'),
  datalist: byId<HTMLDataListElement>('channel-suggestions'),
  suggestions: byId<HTMLSpanElement>('suggestions'),
  tabs: byId<HTMLDivElement>('tabs'),
  panels: byId<HTMLDivElement>('panels'),
  messageForm: byId<HTMLFormElement>('message-form'),
  messageLabel: byId<HTMLLabelElement>('message-label'),
  message: byId<HTMLInputElement>('message'),
  send: byId<HTMLButtonElement>('send'),
  composeError: byId<HTMLParagraphElement>('compose-error'),
  online: byId<HTMLUListElement>('online'),
  onlineCount: byId<HTMLSpanElement>('online-count'),
};

const state = {
  nick: '',
  socket: null as WebSocket | null,
  /** Logged in at least once since the last logout: tabs, logs and unsent messages are kept for the next login. */
  inChat: false,
  /** Logged in on the current socket. */
  online: false,
  loggingOut: false,
  /** Why the connection that was up went down, in words, while the page tries to get it back. */
  lostBecause: '',
  tabs: new Map<string, Tab>(),
  active: SERVER_TAB,
  nextRequestId: 1,
  requests: new Map<number, Request>(),
  onlineNicks: [] as string[],
  /** Channels asked for again after a reconnect and not yet confirmed. */
  rejoining: new Set<string>(),
  /** Channels this person asked to leave, so focus can move on sensibly once they are gone. */
  leaving: new Set<string>(),
  outgoing: new OutgoingMessages(),
};

const reconnector = new Reconnector(
  () => {
    setStatus(`Connection lost: ${state.lostBecause}. Reconnecting now…`);
    ui.retry.hidden = true;
    connect();
  },
  (secondsLeft) => {
    setStatus(`Connection lost: ${state.lostBecause}. Reconnecting in ${secondsLeft}\u00a0s…`);
    ui.retry.hidden = false;
  },
);

function setStatus(text: string): void {
  ui.status.textContent = text;
}

function time(): string {
  return new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function addLine(tabName: string, kind: string, ...parts: (Node | string)[]): HTMLLIElement | undefined {
  const tab = state.tabs.get(tabName);
  if (!tab) return undefined;
  // Follow the conversation unless the reader scrolled back; one's own lines are always brought into view.
  const stick = kind.includes('own') || tab.log.scrollTop + tab.log.clientHeight >= tab.log.scrollHeight - 4;
  const line = h('li', { class: `line ${kind}` }, h('time', {}, time()), ' ', ...parts);
  tab.log.append(line);
  if (stick) tab.log.scrollTop = tab.log.scrollHeight;
  if (tabName !== state.active) tab.button.classList.add('unread');
  return line;
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

/** Shows or clears a problem next to the field it concerns, and marks the field for assistive technology. */
function setFieldError(field: HTMLInputElement, box: HTMLElement, text: string): void {
  box.textContent = text;
  if (text === '') field.removeAttribute('aria-invalid');
  else field.setAttribute('aria-invalid', 'true');
}

/** What needs a connection is disabled without one; the message box stays open, since messages wait. */
function renderConnection(): void {
  const offline = !state.online;
  document.body.classList.toggle('offline', offline && state.inChat);
  ui.joinButton.disabled = offline;
  for (const button of ui.suggestions.querySelectorAll('button')) button.disabled = offline;
  for (const tab of state.tabs.values()) if (tab.leave) tab.leave.disabled = offline;
}

// ---- tabs ------------------------------------------------------------------

let tabCount = 0;

function openTab(name: string): Tab {
  const existing = state.tabs.get(name);
  if (existing) return existing;
  const index = tabCount++;
  const isChannel = name !== SERVER_TAB;
  const button = h(
    'button',
    { type: 'button', role: 'tab', id: `tab-${index}`, 'aria-controls': `panel-${index}`, 'aria-selected': 'false', tabindex: '-1' },
    isChannel ? name : 'Server',
  );
  const log = h('ol', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': `${isChannel ? name : 'Server'} messages` });
  const panel = h('section', { class: 'panel', role: 'tabpanel', id: `panel-${index}`, 'aria-labelledby': `tab-${index}`, hidden: '' });
  let members: HTMLUListElement | null = null;
  let leave: HTMLButtonElement | null = null;
  if (isChannel) {
    members = h('ul', { class: 'members', 'aria-label': `Members of ${name}` });
    leave = h('button', { type: 'button', class: 'leave' }, `Leave ${name}`);
    leave.addEventListener('click', () => {
      state.leaving.add(name);
      request({ type: 5, channel: name }, { action: 'leave', channel: name });
    });
    panel.append(
      h('div', { class: 'panel-body' }, log, h('aside', { class: 'members-box' }, h('h3', {}, 'Members'), members, leave)),
    );
  } else {
    panel.append(h('div', { class: 'panel-body' }, log));
  }
  const tab: Tab = { name, button, panel, log, members, leave, nicks: [] };
  button.addEventListener('click', () => selectTab(name));
  button.addEventListener('keydown', (event) => moveTabFocus(event, name));
  ui.tabs.append(button);
  ui.panels.append(panel);
  state.tabs.set(name, tab);
  renderSuggestions();
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
      // Tabs scroll sideways on narrow screens: keep the selected one in view.
      tab.button.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      if (focus) tab.button.focus();
    }
  }
  const channel = name !== SERVER_TAB;
  ui.message.disabled = !channel;
  ui.send.disabled = !channel;
  ui.messageLabel.textContent = channel ? `Message to ${name}` : 'Message (pick a channel tab first)';
  // Phones hide the label to save a line; the placeholder still says where a message goes.
  ui.message.placeholder = channel ? `Message ${name}` : 'Pick a channel tab to write';
  setFieldError(ui.message, ui.composeError, '');
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

/** Removes a channel's tab; if it was showing, its neighbour shows instead (the one before it, else the Server tab). */
function closeTab(name: string): void {
  const tab = state.tabs.get(name);
  if (!tab || name === SERVER_TAB) return;
  const names = [...state.tabs.keys()];
  const neighbour = names[names.indexOf(name) - 1] ?? SERVER_TAB;
  tab.button.remove();
  tab.panel.remove();
  state.tabs.delete(name);
  if (state.active === name) selectTab(neighbour);
  renderSuggestions();
}

function channelTabs(): Tab[] {
  return [...state.tabs.values()].filter((tab) => tab.name !== SERVER_TAB);
}

/** Suggested channels say which ones this person is in; clicking one of those shows its tab. */
function renderSuggestions(): void {
  for (const button of ui.suggestions.querySelectorAll<HTMLButtonElement>('button')) {
    const channel = button.dataset.channel!;
    const joined = state.tabs.has(channel);
    button.classList.toggle('joined', joined);
    button.replaceChildren(
      channel,
      // A check mark to see, words to hear: the button's name is "#django (joined)".
      ...(joined ? [h('span', { class: 'joined-mark', 'aria-hidden': 'true' }, ' ✓'), h('span', { class: 'visually-hidden' }, ' (joined)')] : []),
    );
  }
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
    if (state.socket !== socket || typeof event.data !== 'string') return;
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
    onClosed(event.code, event.reason);
  });
}

/** Lets go of the current socket: whatever it says from now on is not heard. */
function dropSocket(): void {
  const socket = state.socket;
  state.socket = null;
  state.online = false;
  if (socket && socket.readyState <= WebSocket.OPEN) socket.close();
}

/** Sends a frame with a request id, remembering what it was for; returns the id. Only called while online. */
function request(frame: Frame, what: Request): number {
  const id = state.nextRequestId++;
  state.requests.set(id, what);
  state.socket?.send(JSON.stringify({ ...frame, id }));
  return id;
}

function onClosed(code: number, reason: string): void {
  const wasOnline = state.online;
  state.online = false;
  if (state.loggingOut || code === CLOSE_LOGGED_OUT) {
    resetToLogin('Logged out.');
    return;
  }
  const refusal = refusalOfClose(code, reason);
  if (refusal) {
    showRefusal(refusal);
    return;
  }
  if (!state.inChat) {
    // Never got in, and no refusal explained why.
    ui.loginError.textContent =
      code === 1006 ? 'Could not reach the server. Is it running? Try again in a moment.' : `Could not log in: ${closeInWords(code)}.`;
    setStatus('Not connected.');
    ui.nick.focus();
    return;
  }
  // The drop that ended a session says why; the failed tries after it would only say the server is unreachable.
  if (wasOnline || state.lostBecause === '') state.lostBecause = closeInWords(code);
  if (wasOnline) {
    state.outgoing.connectionLost();
    flushOutgoing();
  }
  renderConnection();
  reconnector.schedule();
}

/**
 * The server will not have this page logged in as it is: retrying would be
 * refused again, so stop, say why in words, and offer the next step on the
 * login form. Tabs and unsent messages stay for the next login.
 */
function showRefusal(refusal: Refusal): void {
  reconnector.cancel();
  dropSocket();
  const { message, next } = explainRefusal(refusal, state.nick, state.inChat);
  ui.chatView.hidden = true;
  ui.me.hidden = true;
  ui.retry.hidden = true;
  ui.logout.hidden = true;
  ui.loginView.hidden = false;
  // What was kept can also be let go of, which is what logging out would have done.
  ui.startOver.hidden = !state.inChat;
  ui.nick.value = state.nick;
  setFieldError(ui.nick, ui.loginError, message);
  setStatus('Not logged in.');
  renderConnection();
  document.body.classList.remove('offline');
  // The next step: another nick is typed over the selected one. For 'password' the nick stays as
  // it is; the password field, once the login form has one, is where the focus goes.
  ui.nick.focus();
  if (next === 'another-nick') ui.nick.select();
}

function resetToLogin(status: string): void {
  reconnector.reset();
  dropSocket();
  state.inChat = false;
  state.loggingOut = false;
  state.outgoing.clear();
  state.requests.clear();
  state.rejoining.clear();
  for (const tab of channelTabs()) closeTab(tab.name);
  state.tabs.get(SERVER_TAB)?.log.replaceChildren();
  state.onlineNicks = [];
  renderOnline();
  renderConnection();
  ui.chatView.hidden = true;
  ui.logout.hidden = true;
  ui.me.hidden = true;
  ui.retry.hidden = true;
  ui.loginView.hidden = false;
  ui.startOver.hidden = true;
  setStatus(status);
  ui.nick.focus();
}

// ---- outgoing messages -------------------------------------------------------

function canSend(channel: string): boolean {
  return state.online && state.tabs.has(channel) && !state.rejoining.has(channel);
}

/** Sends what can go now; shows what cannot as waiting, in its channel's log. */
function flushOutgoing(): void {
  const waiting = state.outgoing.flush(canSend, (message) => {
    message.line?.remove();
    delete message.line;
    return request({ type: 0, dest: message.channel, message: message.text }, { action: 'send', channel: message.channel });
  });
  for (const message of waiting) {
    message.line ??= addLine(
      message.channel,
      'message own pending',
      nickSpan(state.nick),
      ' ',
      h('span', { class: 'text' }, message.text),
      ' ',
      h('span', { class: 'pending-note' }, '(not sent yet: waiting for the connection)'),
    );
  }
}

/** A refused message goes back into the message box when that is free, so it can be sent again. */
function giveBack(message: Outgoing): void {
  message.line?.remove();
  if (state.active === message.channel && ui.message.value === '') ui.message.value = message.text;
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
  if (user === state.nick) state.outgoing.echoed(channel, message);
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
  const returning = state.inChat;
  state.online = true;
  state.inChat = true;
  state.lostBecause = '';
  reconnector.reset();
  ui.retry.hidden = true;
  ui.loginView.hidden = true;
  ui.chatView.hidden = false;
  ui.logout.hidden = false;
  ui.me.hidden = false;
  ui.me.textContent = `Logged in as ${state.nick}`;
  ui.startOver.hidden = true;
  setFieldError(ui.nick, ui.loginError, '');
  renderConnection();
  if (!returning) {
    openTab(SERVER_TAB);
    selectTab(SERVER_TAB);
    addLine(SERVER_TAB, 'presence', 'You logged in as ', nickSpan(state.nick), '.');
    setStatus(`Connected as ${state.nick}.`);
    ui.channelName.focus();
    return;
  }
  const channels = channelTabs().map((view) => view.name);
  state.rejoining = new Set(channels);
  setStatus(channels.length > 0 ? `Reconnected as ${state.nick}; rejoining ${channels.join(', ')}…` : `Reconnected as ${state.nick}.`);
  addLine(SERVER_TAB, 'notice', `Reconnected as ${state.nick}.`);
  for (const channel of channels) request({ type: 4, channel }, { action: 'join', channel, rejoin: true });
  flushOutgoing();
}

function onLogout(user: string): void {
  state.onlineNicks = state.onlineNicks.filter((nick) => nick !== user);
  renderOnline();
  addLine(SERVER_TAB, 'presence', nickSpan(user), ' logged out.');
}

function onJoin(channel: string, user: string): void {
  if (user !== state.nick) {
    addLine(channel, 'presence', nickSpan(user), ` joined ${channel}.`);
    const view = state.tabs.get(channel);
    if (view && !view.nicks.includes(user)) {
      view.nicks.push(user);
      if (view.members) renderList(view.members, view.nicks);
    }
    return;
  }
  const rejoined = state.rejoining.delete(channel);
  openTab(channel);
  addLine(channel, 'presence', nickSpan(user), ` joined ${channel}.`);
  request({ type: 6, channel }, { action: 'list', channel });
  if (rejoined) {
    addLine(channel, 'notice', `Rejoined ${channel}.`);
    if (state.rejoining.size === 0) {
      setStatus(`Reconnected as ${state.nick}; rejoined ${channelTabs().map((view) => view.name).join(', ')}.`);
    }
    flushOutgoing();
    return;
  }
  // The name stays in the field until the join is confirmed, so a refusal can be fixed in place.
  if (canonicalChannel(ui.channelName.value.trim()) === channel) ui.channelName.value = '';
  setFieldError(ui.channelName, ui.joinError, '');
  selectTab(channel);
  ui.message.focus();
}

function onLeave(channel: string, user: string): void {
  if (user !== state.nick) {
    const view = state.tabs.get(channel);
    if (!view) return;
    view.nicks = view.nicks.filter((nick) => nick !== user);
    if (view.members) renderList(view.members, view.nicks);
    addLine(channel, 'presence', nickSpan(user), ` left ${channel}.`);
    return;
  }
  for (const message of state.outgoing.forget(channel)) message.line?.remove();
  closeTab(channel);
  addLine(SERVER_TAB, 'presence', `You left ${channel}.`);
  if (state.leaving.delete(channel)) {
    // The Leave button went with its tab: go on writing in the tab now showing, or join another.
    if (state.active === SERVER_TAB) ui.channelName.focus();
    else ui.message.focus();
  }
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
  const refusal = refusalOfError(frame.code);
  if (refusal) {
    showRefusal(refusal);
    return;
  }
  const id = typeof frame.id === 'number' ? frame.id : undefined;
  const what = id === undefined ? undefined : state.requests.get(id);
  if (id !== undefined) state.requests.delete(id);
  const text = errorInWords(String(frame.code), what?.action, typeof frame.message === 'string' ? frame.message : undefined);
  switch (what?.action) {
    case 'join':
      if (what.rejoin && what.channel) {
        state.rejoining.delete(what.channel);
        addLine(what.channel, 'error', `Could not rejoin ${what.channel}: ${text}`);
      } else {
        setFieldError(ui.channelName, ui.joinError, text);
      }
      break;
    case 'send': {
      const message = id === undefined ? undefined : state.outgoing.refused(id);
      if (message) giveBack(message);
      setFieldError(ui.message, ui.composeError, text);
      break;
    }
    case 'leave':
      state.leaving.delete(what.channel ?? '');
      addLine(what.channel ?? state.active, 'error', text);
      break;
    case 'list':
      // Only the member list stays stale; nothing the person did failed.
      break;
    default:
      addLine(state.active, 'error', text);
  }
}

// ---- user actions ------------------------------------------------------------

ui.loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const nick = ui.nick.value.trim();
  const problem = nickProblem(nick);
  setFieldError(ui.nick, ui.loginError, problem ?? '');
  if (problem) {
    ui.nick.focus();
    return;
  }
  reconnector.cancel();
  dropSocket();
  state.nick = nick;
  setStatus(`Connecting as ${nick}…`);
  connect();
});

// A problem shown for a field is about what was in it: editing it makes the problem stale.
ui.nick.addEventListener('input', () => {
  const nick = ui.nick.value.trim();
  // Said at once when typing makes it too long or adds a character the server refuses; emptiness waits for submit.
  setFieldError(ui.nick, ui.loginError, nick === '' ? '' : (nickProblem(nick) ?? ''));
});
ui.channelName.addEventListener('input', () => setFieldError(ui.channelName, ui.joinError, ''));
ui.message.addEventListener('input', () => setFieldError(ui.message, ui.composeError, ''));

function join(name: string): void {
  const problem = channelProblem(name);
  if (problem) {
    setFieldError(ui.channelName, ui.joinError, problem);
    ui.channelName.focus();
    return;
  }
  const channel = canonicalChannel(name)!;
  if (state.tabs.has(channel)) {
    // Already in it: show it rather than ask the server and be told so.
    if (canonicalChannel(ui.channelName.value.trim()) === channel) ui.channelName.value = '';
    setFieldError(ui.channelName, ui.joinError, '');
    selectTab(channel);
    ui.message.focus();
    return;
  }
  if (!state.online) return;
  request({ type: 4, channel }, { action: 'join', channel });
}

ui.joinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  join(ui.channelName.value.trim());
});

ui.messageForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (state.active === SERVER_TAB) return;
  const text = ui.message.value;
  // Only spaces is nothing to say; leave them in the box rather than send an empty-looking line.
  if (text.trim() === '') return;
  setFieldError(ui.message, ui.composeError, '');
  state.outgoing.add(state.active, text);
  ui.message.value = '';
  flushOutgoing();
});

ui.retry.addEventListener('click', () => reconnector.retryNow());

// A phone turned sideways and back (or a resized window) must not leave the open tab scrolled out of its row.
window.addEventListener('resize', () => state.tabs.get(state.active)?.button.scrollIntoView({ block: 'nearest', inline: 'nearest' }));

ui.startOver.addEventListener('click', () => {
  resetToLogin('Not connected.');
  setFieldError(ui.nick, ui.loginError, '');
});

ui.logout.addEventListener('click', () => {
  state.loggingOut = true;
  reconnector.cancel();
  if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify({ type: 3 }));
  else resetToLogin('Logged out.');
});

for (const channel of SUGGESTED_CHANNELS) {
  ui.datalist.append(h('option', { value: channel }));
  const button = h('button', { type: 'button', class: 'suggestion', 'data-channel': channel }, channel);
  button.addEventListener('click', () => join(channel));
  ui.suggestions.append(button);
}

ui.nick.focus();

// A module, not a script: its names stay out of the global scope the other page's script shares at compile time.
export {};
