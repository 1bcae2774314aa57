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
 *
 * A registered nick signs in with the token this browser saved (see
 * saved-sign-in.ts), or asks for its password on the login form. Each
 * channel's log is ordered and deduplicated by the server's offsets (see
 * channel-history.ts): the past shown on joining, older pages, and what a
 * rejoin after a reconnect recovers all fit in without anything shown twice.
 */

import { byId, h } from '../dom.js';
import { ChannelHistory } from './channel-history.js';
import { shownTime } from './event-time.js';
import { canonicalChannel, channelProblem, nickProblem } from './names.js';
import { OutgoingMessages, type Outgoing } from './outgoing.js';
import { passwordProblem } from './passwords.js';
import { Reconnector } from './reconnect.js';
import { explainRefusal, refusalOfClose, refusalOfError, type Refusal } from './refusals.js';
import { forgetToken, nickToResume, savedToken, saveToken, stopResuming } from './saved-sign-in.js';
import { closeInWords, errorInWords, signInFailureInWords, type Action } from './words.js';

type Frame = { type: number } & Record<string, unknown>;

/** The channels the original server offered. */
const SUGGESTED_CHANNELS = ['#django', '#flask', '#tornado'];

const CLOSE_LOGGED_OUT = 1000;

const SERVER_TAB = 'server';

/** Events one "Load older" click asks for. */
const PAGE_SIZE = 50;

interface Tab {
  name: string;
  button: HTMLButtonElement;
  panel: HTMLElement;
  log: HTMLOListElement;
  /** Null for the server tab, which has no members. */
  members: HTMLUListElement | null;
  leave: HTMLButtonElement | null;
  nicks: string[];
  /** Null for the server tab, which has no events. */
  history: ChannelHistory | null;
  /** The first line of the log: the "Load older" button, shown while the server may keep older events. */
  older: HTMLLIElement | null;
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
  register: byId<HTMLButtonElement>('register'),
  forget: byId<HTMLButtonElement>('forget'),
  logout: byId<HTMLButtonElement>('logout'),
  loginView: byId<HTMLElement>('login-view'),
  loginForm: byId<HTMLFormElement>('login-form'),
  loginHeading: byId<HTMLHeadingElement>('login-heading'),
  loginSubmit: byId<HTMLButtonElement>('login-submit'),
  nick: byId<HTMLInputElement>('nick'),
  passwordRow: byId<HTMLDivElement>('password-row'),
  passwordNote: byId<HTMLParagraphElement>('password-note'),
  password: byId<HTMLInputElement>('password'),
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
  registerDialog: byId<HTMLDialogElement>('register-dialog'),
  registerForm: byId<HTMLFormElement>('register-form'),
  registerHeading: byId<HTMLHeadingElement>('register-heading'),
  registerAbout: byId<HTMLParagraphElement>('register-about'),
  registerNick: byId<HTMLInputElement>('register-nick'),
  newPassword: byId<HTMLInputElement>('new-password'),
  registerError: byId<HTMLParagraphElement>('register-error'),
  registerSubmit: byId<HTMLButtonElement>('register-submit'),
  registerCancel: byId<HTMLButtonElement>('register-cancel'),
};

/**
 * Where signing in to a registered nick stands on the current socket:
 * `none` (not asked, or a guest nick), `asking` (the person is asked for the
 * password), `checking` (a password or token was sent, the answer is due).
 */
type SignIn = 'none' | 'asking' | 'checking';

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
  signIn: 'none' as SignIn,
  /** What the login in flight was sent with, so a refusal of a saved token forgets it. */
  signingInWith: 'password' as 'password' | 'token',
  /** A password typed while no socket was waiting for it: sent when the next one asks. */
  pendingPassword: undefined as string | undefined,
  /**
   * The password this page registered the nick with, kept in memory only until
   * a sign-in hands out a token: the server's answer to a registration carries
   * none, and a reconnect meanwhile should not have to ask.
   */
  registeredPassword: undefined as string | undefined,
  /** The nick is registered and this page is signed in as its owner. */
  owner: false,
  /** The password of a registration in flight. */
  registering: undefined as string | undefined,
  /** Channel events that came before their channel's own join frame (history, recovery), kept until it comes. */
  past: new Map<string, Frame[]>(),
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

function timeElement(ms: number): HTMLTimeElement {
  return h('time', { datetime: new Date(ms).toISOString() }, shownTime(ms));
}

function addLine(tabName: string, kind: string, ...parts: (Node | string)[]): HTMLLIElement | undefined {
  return appendLine(tabName, h('li', { class: `line ${kind}` }, timeElement(Date.now()), ' ', ...parts));
}

/** Adds a line at the end of a tab's log, following the conversation unless the reader scrolled back. */
function appendLine(tabName: string, line: HTMLLIElement): HTMLLIElement | undefined {
  const tab = state.tabs.get(tabName);
  if (!tab) return undefined;
  // One's own lines are always brought into view.
  const stick = line.classList.contains('own') || tab.log.scrollTop + tab.log.clientHeight >= tab.log.scrollHeight - 4;
  tab.log.append(line);
  if (stick) tab.log.scrollTop = tab.log.scrollHeight;
  if (tabName !== state.active) tab.button.classList.add('unread');
  return line;
}

/** A line between others, saying something about the log itself (where the past starts, what was missed). */
function markerLine(kind: string, text: string): HTMLLIElement {
  return h('li', { class: `line marker ${kind}` }, h('span', {}, text));
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
  for (const tab of state.tabs.values()) {
    if (tab.leave) tab.leave.disabled = offline;
    renderOlder(tab);
  }
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
  let older: HTMLLIElement | null = null;
  if (isChannel) {
    const loadOlder = h('button', { type: 'button', class: 'secondary load-older' }, 'Load older messages');
    loadOlder.addEventListener('click', () => requestOlder(name));
    older = h('li', { class: 'older', hidden: '' }, loadOlder);
    log.append(older);
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
  const tab: Tab = { name, button, panel, log, members, leave, nicks: [], history: isChannel ? new ChannelHistory() : null, older };
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
  state.signIn = 'none';
  state.past.clear();
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
  state.signIn = 'none';
  if (socket && socket.readyState <= WebSocket.OPEN) socket.close();
}

/** Sends a frame with a request id, remembering what it was for; returns the id. Only called while the socket is open. */
function request(frame: Frame, what: Request): number {
  const id = state.nextRequestId++;
  state.requests.set(id, what);
  state.socket?.send(JSON.stringify({ ...frame, id }));
  return id;
}

function onClosed(code: number, reason: string): void {
  const wasOnline = state.online;
  const asking = !ui.passwordRow.hidden && !ui.loginView.hidden;
  state.online = false;
  state.signIn = 'none';
  state.past.clear();
  if (state.registering !== undefined) {
    state.registering = undefined;
    showRegisterProblem('The connection dropped before the server answered, so the nick is not registered. Try again once the page is back.');
  }
  if (state.loggingOut || code === CLOSE_LOGGED_OUT) {
    resetToLogin('Logged out.');
    return;
  }
  const refusal = refusalOfClose(code, reason);
  if (refusal) {
    showRefusal(refusal);
    return;
  }
  if (asking) {
    // The password form stays as it is (it already says what went wrong, if anything did); the
    // next try opens a new connection. Retrying without the password would only be asked for it again.
    reconnector.cancel();
    setStatus(`Not logged in: “${state.nick}” needs its password.`);
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
  renderAccount();
  reconnector.schedule();
}

/** The login form, in place of the chat (which is kept, and comes back on the next login). */
function showLoginForm(): void {
  ui.chatView.hidden = true;
  ui.me.hidden = true;
  ui.retry.hidden = true;
  ui.logout.hidden = true;
  ui.loginView.hidden = false;
  // What was kept can also be let go of, which is what logging out would have done.
  ui.startOver.hidden = !state.inChat;
  ui.nick.value = state.nick;
  if (ui.registerDialog.open) ui.registerDialog.close();
  renderConnection();
  renderAccount();
  document.body.classList.remove('offline');
}

/**
 * The server will not have this page logged in as it is: retrying would be
 * refused again, so stop, say why in words, and offer the next step on the
 * login form. Tabs and unsent messages stay for the next login.
 */
function showRefusal(refusal: Refusal): void {
  reconnector.cancel();
  dropSocket();
  // Two pages of this browser signing in by themselves would take the nick from each other for ever.
  if (refusal === 'signed_in_elsewhere') stopResuming();
  const { message, next } = explainRefusal(refusal, state.nick, state.inChat);
  hidePasswordRow();
  showLoginForm();
  setFieldError(ui.nick, ui.loginError, message);
  setStatus('Not logged in.');
  // The next step: another nick is typed over the selected one; the same one is logged in again as it is.
  ui.nick.focus();
  if (next === 'another-nick') ui.nick.select();
}

function resetToLogin(status: string): void {
  reconnector.reset();
  dropSocket();
  state.inChat = false;
  state.loggingOut = false;
  state.owner = false;
  state.outgoing.clear();
  state.requests.clear();
  state.rejoining.clear();
  state.past.clear();
  for (const tab of channelTabs()) closeTab(tab.name);
  state.tabs.get(SERVER_TAB)?.log.replaceChildren();
  state.onlineNicks = [];
  renderOnline();
  hidePasswordRow();
  showLoginForm();
  ui.startOver.hidden = true;
  setStatus(status);
  ui.nick.focus();
}

// ---- signing in to a registered nick -------------------------------------------

/** The server says the nick is registered: sign in with what this page has, or ask for the password. */
function onAuthRequired(): void {
  if (state.signIn !== 'none') return;
  const password = state.pendingPassword ?? state.registeredPassword;
  const token = savedToken(state.nick);
  if (password !== undefined) sendLogin('password', password);
  else if (token !== undefined) sendLogin('token', token);
  else askForPassword('');
}

function sendLogin(kind: 'password' | 'token', credential: string): void {
  state.pendingPassword = undefined;
  state.signIn = 'checking';
  state.signingInWith = kind;
  request({ type: 2, user: state.nick, [kind]: credential }, { action: 'sign-in' });
  setStatus(kind === 'token' ? `Signing in as ${state.nick} with this browser’s saved sign-in…` : `Checking the password for ${state.nick}…`);
}

/** Shows the login form with the password field; `problem` says what went wrong with the last try, if anything. */
function askForPassword(problem: string): void {
  state.signIn = 'asking';
  reconnector.cancel();
  const kept = state.inChat ? ' Your channels and unsent messages are kept.' : '';
  ui.passwordNote.textContent = `“${state.nick}” is a registered nick: type its password to sign in.${kept}`;
  ui.loginHeading.textContent = 'Sign in';
  ui.loginSubmit.textContent = 'Sign in';
  ui.loginForm.classList.add('asking');
  ui.passwordRow.hidden = false;
  showLoginForm();
  setFieldError(ui.nick, ui.loginError, '');
  setFieldError(ui.password, ui.loginError, problem);
  setStatus(`Not logged in: “${state.nick}” needs its password.`);
  ui.password.focus();
  ui.password.select();
}

function hidePasswordRow(): void {
  ui.passwordRow.hidden = true;
  ui.loginHeading.textContent = 'Pick a nick';
  ui.loginSubmit.textContent = 'Log in';
  ui.loginForm.classList.remove('asking');
  ui.password.value = '';
  ui.password.removeAttribute('aria-invalid');
  state.pendingPassword = undefined;
}

/** A login was refused: a token the server no longer takes is forgotten, and the person is asked (again). */
function onSignInRefused(code: string, serverText: string | undefined): void {
  // The server stopped waiting while the person looked for the password: nothing they did was wrong,
  // and the next try opens a new connection by itself, so there is nothing to say.
  if (code === 'auth_timeout' && state.signIn === 'asking') return;
  const usedToken = state.signingInWith === 'token';
  if (code === 'bad_token' || (usedToken && code === 'bad_password')) forgetToken(state.nick);
  // The password this page registered with no longer works: it was changed elsewhere.
  if (code === 'bad_password' && !usedToken) state.registeredPassword = undefined;
  askForPassword(signInFailureInWords(code, state.nick) ?? errorInWords(code, 'sign-in', serverText));
}

// ---- registering a nick ---------------------------------------------------------

/** Offers what fits this nick: registering it while it is a guest's, forgetting this browser's sign-in once it is saved. */
function renderAccount(): void {
  const inChat = !ui.chatView.hidden;
  ui.register.hidden = !inChat || state.owner;
  ui.register.disabled = !state.online;
  ui.forget.hidden = !inChat || savedToken(state.nick) === undefined;
}

function showRegisterProblem(text: string): void {
  setFieldError(ui.newPassword, ui.registerError, text);
  ui.registerSubmit.disabled = false;
  ui.registerSubmit.textContent = 'Register';
}

function onRegistered(): void {
  state.registeredPassword = state.registering;
  state.registering = undefined;
  state.owner = true;
  ui.newPassword.value = '';
  ui.registerSubmit.disabled = false;
  ui.registerSubmit.textContent = 'Register';
  ui.registerDialog.close();
  renderAccount();
  const text = `“${state.nick}” is registered to you now: anyone else who connects with it is asked for its password.`;
  setStatus(`Connected as ${state.nick}. ${text}`);
  addLine(SERVER_TAB, 'notice', text);
  (ui.message.disabled ? ui.channelName : ui.message).focus();
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

// ---- channel events ------------------------------------------------------------

/** The channel a message, join or leave frame belongs to. */
function channelOf(frame: Frame): string | undefined {
  const channel = frame.type === 0 ? frame.dest : frame.type === 4 || frame.type === 5 ? frame.channel : undefined;
  return typeof channel === 'string' ? channel : undefined;
}

function offsetOf(frame: Frame): number | undefined {
  return typeof frame.offset === 'number' ? frame.offset : undefined;
}

/** A channel event as a line of its log, with the time the server stamped it with. */
function eventLine(frame: Frame, extraKind = ''): HTMLLIElement {
  const user = String(frame.user);
  const channel = channelOf(frame) ?? '';
  const when = typeof frame.time === 'number' ? frame.time : Date.now();
  let kind: string;
  let parts: (Node | string)[];
  if (frame.type === 0) {
    kind = user === state.nick ? 'message own' : 'message';
    parts = [nickSpan(user), ' ', h('span', { class: 'text' }, String(frame.message))];
  } else {
    kind = 'presence';
    parts = [nickSpan(user), frame.type === 4 ? ` joined ${channel}.` : ` left ${channel}.`];
  }
  const line = h('li', { class: `line ${kind} ${extraKind}`.trim() }, timeElement(when), ' ', ...parts);
  const offset = offsetOf(frame);
  if (offset !== undefined) line.dataset.offset = String(offset);
  return line;
}

/** False when the tab has shown this event already: it is not shown again. */
function isNew(tab: Tab, frame: Frame): boolean {
  const offset = offsetOf(frame);
  return offset === undefined || !tab.history || tab.history.take(offset);
}

/** "Load older" shows while the server may keep something older than what is shown. */
function renderOlder(tab: Tab): void {
  if (!tab.older || !tab.history) return;
  tab.older.hidden = !tab.history.more;
  const button = tab.older.querySelector('button')!;
  button.disabled = !state.online;
  // A page asked for before a drop will not come: the button is ready again once the page is back.
  if (!state.online) button.textContent = 'Load older messages';
}

/**
 * The channel's past, heard before this page's own join frame: shown once the
 * join says what it is. On a first join it is the conversation so far, shown
 * as earlier; on a rejoin it is what was missed while disconnected, with a
 * marker saying whether all of it could be recovered.
 */
function showPast(tab: Tab, past: Frame[], rejoin: boolean, recovered: boolean, freshEpoch: boolean): void {
  const fresh = past.filter((frame) => isNew(tab, frame));
  if (!rejoin) {
    if (fresh.length === 0) return;
    appendLine(tab.name, markerLine('earlier-start', `Earlier in ${tab.name}`));
    for (const frame of fresh) appendLine(tab.name, eventLine(frame, 'earlier'));
    return;
  }
  // This page's own leave on dropping and its join on coming back are news to others, not to the person.
  const missed = fresh.filter((frame) => frame.type === 0 || frame.user !== state.nick);
  if (!recovered || freshEpoch) {
    const why = freshEpoch
      ? 'the server started afresh and lost what was said before.'
      : 'the server no longer keeps all that was said while this page was disconnected.';
    appendLine(tab.name, markerLine('gap', `Some messages could not be recovered: ${why}`));
  } else if (missed.length > 0) {
    appendLine(tab.name, markerLine('recovered', 'Recovered while you were disconnected'));
  }
  for (const frame of missed) {
    // One of ours that reached the server before the drop: done, not to be sent again.
    if (frame.type === 0 && frame.user === state.nick) state.outgoing.recovered(tab.name, String(frame.message))?.line?.remove();
    appendLine(tab.name, eventLine(frame));
  }
}

function requestOlder(channel: string): void {
  const tab = state.tabs.get(channel);
  if (!tab?.history || !tab.older || !state.online) return;
  const button = tab.older.querySelector('button')!;
  button.disabled = true;
  button.textContent = 'Loading older messages…';
  const before = tab.history.oldest;
  request({ type: 8, channel, limit: PAGE_SIZE, ...(before === undefined ? {} : { before }) }, { action: 'history', channel });
}

/** A page of older events: inserted above what is shown, keeping the reader's place. */
function onPage(frame: Frame): void {
  if (typeof frame.id === 'number') state.requests.delete(frame.id);
  const tab = typeof frame.channel === 'string' ? state.tabs.get(frame.channel) : undefined;
  if (!tab?.history || !tab.older) return;
  const events = (Array.isArray(frame.events) ? frame.events : []).filter(
    (event): event is Frame => typeof event === 'object' && event !== null && typeof (event as Frame).type === 'number',
  );
  const fresh = events.filter((event) => isNew(tab, event));
  const log = tab.log;
  const fromBottom = log.scrollHeight - log.scrollTop;
  let start = log.querySelector<HTMLLIElement>('li.earlier-start');
  if (!start && fresh.length > 0) {
    start = markerLine('earlier-start', `Earlier in ${tab.name}`);
    tab.older.after(start);
  }
  // Oldest first, each above the oldest line shown so far.
  const first = log.querySelector('li[data-offset]');
  for (const event of fresh) {
    const line = eventLine(event, 'earlier');
    if (first) first.before(line);
    else log.append(line);
  }
  log.scrollTop = log.scrollHeight - fromBottom;
  tab.history.paged(frame.more === true && events.length > 0);
  const button = tab.older.querySelector('button')!;
  button.textContent = 'Load older messages';
  const hadFocus = document.activeElement === button;
  renderOlder(tab);
  // The button went away under the keyboard: the log it belonged to keeps the focus.
  if (hadFocus && tab.older.hidden) {
    log.tabIndex = -1;
    log.focus();
  }
}

// ---- frames ------------------------------------------------------------------

function handleFrame(frame: Frame): void {
  const channel = channelOf(frame);
  if (frame.history === true && channel !== undefined) {
    // The past comes just before this page's own join frame, which says how to show it.
    const past = state.past.get(channel) ?? [];
    past.push(frame);
    state.past.set(channel, past);
    return;
  }
  switch (frame.type) {
    case 0:
      onMessage(frame);
      break;
    case 1:
      if (state.registering !== undefined) onRegistered();
      break;
    case 2:
      onLogin(frame);
      break;
    case 3:
      onLogout(String(frame.user));
      break;
    case 4:
      onJoin(frame);
      break;
    case 5:
      onLeave(frame);
      break;
    case 6:
      onList(frame);
      break;
    case 8:
      onPage(frame);
      break;
    case -1:
      onError(frame);
      break;
    default:
      break;
  }
}

function onMessage(frame: Frame): void {
  const channel = String(frame.dest);
  const tab = state.tabs.get(channel);
  if (!tab || !isNew(tab, frame)) return;
  if (frame.user === state.nick) state.outgoing.echoed(channel, String(frame.message));
  appendLine(channel, eventLine(frame));
}

function onLogin(frame: Frame): void {
  const user = String(frame.user);
  if (user === state.nick && !state.online) {
    onLoggedIn(typeof frame.token === 'string' ? frame.token : undefined);
    return;
  }
  if (!state.onlineNicks.includes(user)) state.onlineNicks.push(user);
  renderOnline();
  addLine(SERVER_TAB, 'presence', nickSpan(user), ' logged in.');
}

/** `token`: the nick is registered and this is its owner; the token signs in next time without the password. */
function onLoggedIn(token: string | undefined): void {
  const returning = state.inChat;
  state.online = true;
  state.inChat = true;
  state.signIn = 'none';
  state.lostBecause = '';
  state.owner = token !== undefined;
  if (token !== undefined) {
    saveToken(state.nick, token);
    // Needed no longer: the token does its job, and a password is better not kept.
    state.registeredPassword = undefined;
  }
  reconnector.reset();
  hidePasswordRow();
  ui.retry.hidden = true;
  ui.loginView.hidden = true;
  ui.chatView.hidden = false;
  ui.logout.hidden = false;
  ui.me.hidden = false;
  ui.me.textContent = `Logged in as ${state.nick}`;
  ui.startOver.hidden = true;
  setFieldError(ui.nick, ui.loginError, '');
  renderConnection();
  renderAccount();
  if (!returning) {
    openTab(SERVER_TAB);
    selectTab(SERVER_TAB);
    addLine(SERVER_TAB, 'presence', token === undefined ? 'You logged in as ' : 'You signed in as ', nickSpan(state.nick), '.');
    setStatus(`Connected as ${state.nick}.`);
    ui.channelName.focus();
    return;
  }
  const channels = channelTabs().map((view) => view.name);
  state.rejoining = new Set(channels);
  setStatus(channels.length > 0 ? `Reconnected as ${state.nick}; rejoining ${channels.join(', ')}…` : `Reconnected as ${state.nick}.`);
  addLine(SERVER_TAB, 'notice', `Reconnected as ${state.nick}.`);
  for (const channel of channels) {
    // Everything after the last event seen, so nothing said meanwhile is lost.
    const history = state.tabs.get(channel)?.history;
    const since = history && history.newest > 0 ? { since: history.newest, ...(history.epoch ? { epoch: history.epoch } : {}) } : {};
    request({ type: 4, channel, ...since }, { action: 'join', channel, rejoin: true });
  }
  flushOutgoing();
}

function onLogout(user: string): void {
  state.onlineNicks = state.onlineNicks.filter((nick) => nick !== user);
  renderOnline();
  addLine(SERVER_TAB, 'presence', nickSpan(user), ' logged out.');
}

function onJoin(frame: Frame): void {
  const channel = String(frame.channel);
  const user = String(frame.user);
  if (user !== state.nick) {
    const view = state.tabs.get(channel);
    if (!view || !isNew(view, frame)) return;
    appendLine(channel, eventLine(frame));
    if (!view.nicks.includes(user)) {
      view.nicks.push(user);
      if (view.members) renderList(view.members, view.nicks);
    }
    return;
  }
  const rejoined = state.rejoining.delete(channel);
  const tab = openTab(channel);
  const past = state.past.get(channel) ?? [];
  state.past.delete(channel);
  const freshEpoch = tab.history?.joined(typeof frame.epoch === 'string' ? frame.epoch : undefined) ?? false;
  showPast(tab, past, rejoined, frame.recovered !== false, freshEpoch);
  if (isNew(tab, frame)) appendLine(channel, eventLine(frame));
  renderOlder(tab);
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

function onLeave(frame: Frame): void {
  const channel = String(frame.channel);
  const user = String(frame.user);
  if (user !== state.nick) {
    const view = state.tabs.get(channel);
    if (!view || !isNew(view, frame)) return;
    view.nicks = view.nicks.filter((nick) => nick !== user);
    if (view.members) renderList(view.members, view.nicks);
    appendLine(channel, eventLine(frame));
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
  const code = String(frame.code);
  const refusal = refusalOfError(frame.code);
  if (refusal) {
    showRefusal(refusal);
    return;
  }
  const id = typeof frame.id === 'number' ? frame.id : undefined;
  const what = id === undefined ? undefined : state.requests.get(id);
  if (id !== undefined) state.requests.delete(id);
  const serverText = typeof frame.message === 'string' ? frame.message : undefined;
  if (!state.online) {
    // Before the login is through, errors are about signing in.
    if (code === 'auth_required') onAuthRequired();
    else if (state.signIn !== 'none' || what?.action === 'sign-in') onSignInRefused(code, serverText);
    return;
  }
  const text = errorInWords(code, what?.action, serverText);
  switch (what?.action) {
    case 'join':
      if (what.rejoin && what.channel) {
        state.rejoining.delete(what.channel);
        state.past.delete(what.channel);
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
    case 'register':
      state.registering = undefined;
      showRegisterProblem(text);
      break;
    case 'history': {
      const tab = state.tabs.get(what.channel ?? '');
      if (tab?.older) {
        tab.older.querySelector('button')!.textContent = 'Load older messages';
        renderOlder(tab);
      }
      addLine(what.channel ?? state.active, 'error', `Could not load older messages: ${text}`);
      break;
    }
    default:
      addLine(state.active, 'error', text);
  }
}

// ---- user actions ------------------------------------------------------------

function logIn(nick: string): void {
  reconnector.cancel();
  dropSocket();
  state.nick = nick;
  setStatus(`Connecting as ${nick}…`);
  connect();
}

ui.loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const nick = ui.nick.value.trim();
  const problem = nickProblem(nick);
  setFieldError(ui.nick, ui.loginError, problem ?? '');
  if (problem) {
    ui.nick.focus();
    return;
  }
  if (ui.passwordRow.hidden || nick !== state.nick) {
    hidePasswordRow();
    logIn(nick);
    return;
  }
  // Asked for the password of this nick.
  const password = ui.password.value;
  const passwordTrouble = passwordProblem(password);
  setFieldError(ui.password, ui.loginError, passwordTrouble ?? '');
  if (passwordTrouble) {
    ui.password.focus();
    return;
  }
  if (state.signIn === 'asking' && state.socket?.readyState === WebSocket.OPEN) {
    sendLogin('password', password);
    return;
  }
  // The connection that asked is gone (it timed out, or too many tries): a new one will ask again.
  logIn(nick);
  state.pendingPassword = password;
});

// A problem shown for a field is about what was in it: editing it makes the problem stale.
ui.nick.addEventListener('input', () => {
  const nick = ui.nick.value.trim();
  // Another nick is not the registered one the password was asked for.
  if (!ui.passwordRow.hidden && nick !== state.nick) {
    hidePasswordRow();
    dropSocket();
  }
  // Said at once when typing makes it too long or adds a character the server refuses; emptiness waits for submit.
  setFieldError(ui.nick, ui.loginError, nick === '' ? '' : (nickProblem(nick) ?? ''));
});
ui.password.addEventListener('input', () => setFieldError(ui.password, ui.loginError, ''));
ui.channelName.addEventListener('input', () => setFieldError(ui.channelName, ui.joinError, ''));
ui.message.addEventListener('input', () => setFieldError(ui.message, ui.composeError, ''));
ui.newPassword.addEventListener('input', () => setFieldError(ui.newPassword, ui.registerError, ''));

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
  // Logged out on purpose: opening the page again should not sign straight back in.
  stopResuming();
  if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify({ type: 3 }));
  else resetToLogin('Logged out.');
});

ui.register.addEventListener('click', () => {
  // The nick itself names the dialog (and not the word "nick", which the login field is known by).
  ui.registerHeading.textContent = `Register “${state.nick}”`;
  ui.registerAbout.textContent = `Only you will be able to use “${state.nick}”: anyone else who connects with it is asked for its password.`;
  ui.registerNick.value = state.nick;
  ui.newPassword.value = '';
  setFieldError(ui.newPassword, ui.registerError, '');
  ui.registerDialog.showModal();
  ui.newPassword.focus();
});

ui.registerForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (state.registering !== undefined) return;
  const password = ui.newPassword.value;
  const problem = passwordProblem(password);
  if (problem) {
    setFieldError(ui.newPassword, ui.registerError, problem);
    ui.newPassword.focus();
    return;
  }
  if (!state.online) {
    setFieldError(ui.newPassword, ui.registerError, 'The page is not connected right now. Try again once it is back.');
    return;
  }
  setFieldError(ui.newPassword, ui.registerError, '');
  state.registering = password;
  ui.registerSubmit.disabled = true;
  ui.registerSubmit.textContent = 'Registering…';
  request({ type: 1, password }, { action: 'register' });
});

ui.registerCancel.addEventListener('click', () => ui.registerDialog.close());
// However it closes (Cancel, Escape), the password typed is not left in the page.
ui.registerDialog.addEventListener('close', () => {
  if (state.registering === undefined) ui.newPassword.value = '';
});

ui.forget.addEventListener('click', () => {
  forgetToken(state.nick);
  renderAccount();
  setStatus(`Connected as ${state.nick}. This browser no longer remembers you: next time it asks for the password.`);
  addLine(SERVER_TAB, 'notice', `This browser forgot its sign-in for ${state.nick}: next time it asks for the password.`);
  (ui.message.disabled ? ui.channelName : ui.message).focus();
});

for (const channel of SUGGESTED_CHANNELS) {
  ui.datalist.append(h('option', { value: channel }));
  const button = h('button', { type: 'button', class: 'suggestion', 'data-channel': channel }, channel);
  button.addEventListener('click', () => join(channel));
  ui.suggestions.append(button);
}

// Signed in on this browser before, and not logged out since: sign in again by itself, with the saved token.
const resuming = nickToResume();
if (resuming !== undefined) {
  ui.nick.value = resuming;
  logIn(resuming);
} else {
  ui.nick.focus();
}

// A module, not a script: its names stay out of the global scope the other page's script shares at compile time.
export {};
