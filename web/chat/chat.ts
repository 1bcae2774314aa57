/**
 * @module chat: the browser chat client served at `/`, built on the client
 * SDK (`xstate-chat/client`, served to the page as `/sdk/client/index.js`).
 *
 * The SDK owns the connection, as it does for bots in Node: reconnecting with
 * backoff, signing back in with the resume token, rejoining with `since`,
 * reporting what was recovered or lost, dropping duplicates by offset, and
 * matching answers to requests. This page only shows it to people. Everything
 * a user typed reaches the page as text nodes only (never markup), and the
 * server forbids inline scripts besides, so a hostile nick or message shows
 * literally.
 *
 * Nothing typed is lost to a dropped connection: messages wait, visibly, in
 * the SDK's queue and go out in order once the page is back; one typed for a
 * nick the page then lost goes out under the next nick. Each problem is said
 * once, in words, next to what it concerns, and disappears when it no longer
 * holds: the connection in the status line, a channel name next to the join
 * field, a message next to the message box, a refused login on the login form.
 *
 * A registered nick signs in with the token this browser saved (see
 * saved-sign-in.ts), or asks for its password on the login form. Each
 * channel's log is ordered by the server's offsets (see channel-history.ts),
 * so older pages fit in above what is shown without anything shown twice.
 */

import { ChatClient, type ChannelEvent, type ChatError, type GapEvent, type StateEvent } from 'xstate-chat/client';
import { byId, h } from '../dom.js';
import { ChannelHistory } from './channel-history.js';
import { shownTime } from './event-time.js';
import { canonicalChannel, channelProblem, nickProblem } from './names.js';
import { passwordProblem } from './passwords.js';
import { Countdown } from './reconnect.js';
import { explainRefusal, refusalOfError, type Refusal } from './refusals.js';
import { forgetToken, nickToResume, savedToken, saveToken, stopResuming } from './saved-sign-in.js';
import { closeInWords, errorInWords, signInFailureInWords } from './words.js';

/** The channels the original server offered. */
const SUGGESTED_CHANNELS = ['#django', '#flask', '#tornado'];

const SERVER_TAB = 'server';

/** Events one "Load older" click asks for. */
const PAGE_SIZE = 50;

/** Sign-in failures the SDK stops on: the person is asked for the password (again). */
const SIGN_IN_FAILURES: ReadonlySet<string> = new Set(['bad_password', 'bad_token', 'auth_throttled', 'auth_timeout']);

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

/** A message typed and not yet delivered to its channel. */
interface Outgoing {
  channel: string;
  text: string;
  /** The client it was handed to; none when that client stopped before delivering it, so the next one sends it. */
  client?: ChatClient;
  /** The line in the channel's log that shows it as not sent yet, while there is one. */
  line?: HTMLLIElement;
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

const state = {
  nick: '',
  client: null as ChatClient | null,
  /** The client's state, as its last `state` event said. */
  connection: 'closed' as StateEvent['state'],
  /** Logged in at least once since the last logout: tabs, logs and unsent messages are kept for the next login. */
  inChat: false,
  /** The client is online. */
  online: false,
  loggingOut: false,
  /** Why the connection that was up went down, in words, while the page tries to get it back. */
  lostBecause: '',
  tabs: new Map<string, Tab>(),
  active: SERVER_TAB,
  onlineNicks: [] as string[],
  /** Channels being rejoined after a reconnect and not yet confirmed. */
  rejoining: new Set<string>(),
  /** Channels this person asked to leave, so focus can move on sensibly once they are gone. */
  leaving: new Set<string>(),
  /** Messages typed and not yet delivered, in the order typed. */
  outgoing: [] as Outgoing[],
  /** The person is being asked for the password of the nick. */
  asking: false,
  /** What the login in flight was sent with, so a refusal of a saved token forgets it. */
  signingInWith: 'none' as 'none' | 'password' | 'token',
  /** A resume token handed out by the current login: the nick is registered and this page is its owner. */
  loginToken: undefined as string | undefined,
  /** The nick is registered and this page is signed in as its owner. */
  owner: false,
  /** A registration is in flight. */
  registering: false,
  /** A channel's past (and this page's own join), heard before the join it belongs to is confirmed. */
  past: new Map<string, ChannelEvent[]>(),
};

const countdown = new Countdown((secondsLeft) => {
  setStatus(`Connection lost: ${state.lostBecause}. Reconnecting in ${secondsLeft}\u00a0s…`);
  ui.retry.hidden = false;
});

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
    leave.addEventListener('click', () => leaveChannel(name));
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

/** Starts a client for `state.nick`, signing in with the password typed, else the token this browser saved. */
function connect(password?: string): void {
  const token = password === undefined ? savedToken(state.nick) : undefined;
  state.signingInWith = password !== undefined ? 'password' : token !== undefined ? 'token' : 'none';
  const client = new ChatClient({
    url: location.origin,
    nick: state.nick,
    ...(password === undefined ? {} : { password }),
    ...(token === undefined ? {} : { token }),
  });
  state.client = client;
  state.online = false;
  state.connection = 'connecting';
  state.past.clear();
  // Each handler hears only the current client: one let go of (a new login, a logout) says nothing more.
  const mine = <E>(handler: (event: E) => void) => (event: E) => {
    if (state.client === client) handler(event);
  };
  client.on('state', mine((event) => onState(client, event)));
  client.on('token', mine(({ token }) => {
    state.loginToken = token;
    saveToken(state.nick, token);
  }));
  client.on('users', mine(({ users }) => {
    state.onlineNicks = users;
    renderOnline();
  }));
  client.on('login', mine(({ user }) => onLogin(user)));
  client.on('logout', mine(({ user }) => onLogout(user)));
  client.on('message', mine(onChannelEvent));
  client.on('join', mine(onChannelEvent));
  client.on('leave', mine(onChannelEvent));
  client.on('recovered', mine(({ channel, count }) => onRecovery(channel, count)));
  client.on('gap', mine((event) => onRecovery(event.channel, event.count, event)));
  client.on('error', mine(({ error, channel }) => onUnaskedError(error, channel)));
  // Settled by the `state` events above; a refusal is shown from there too.
  client.start().catch(() => undefined);
}

/** Lets go of the current client: it logs out, and whatever it says from now on is not heard. */
function dropClient(): void {
  const client = state.client;
  state.client = null;
  state.online = false;
  state.connection = 'closed';
  void client?.close();
}

function onState(client: ChatClient, event: StateEvent): void {
  const was = state.connection;
  state.connection = event.state;
  switch (event.state) {
    case 'connecting':
      state.loginToken = undefined;
      state.past.clear();
      if (was === 'reconnecting') {
        countdown.cancel();
        setStatus(`Connection lost: ${state.lostBecause}. Reconnecting now…`);
        ui.retry.hidden = true;
      }
      return;
    case 'authenticating':
      return;
    case 'online':
      onLoggedIn(client);
      return;
    case 'reconnecting':
      onDropped(was === 'online', event);
      return;
    case 'closed':
      onClosed(event);
      return;
  }
}

/** The connection that was up went down (or another try failed): the SDK waits `delayMs` and tries again. */
function onDropped(wasOnline: boolean, event: StateEvent): void {
  state.online = false;
  // The drop that ended a session says why; the failed tries after it would only say the server is unreachable.
  if (wasOnline || state.lostBecause === '') state.lostBecause = closeInWords(event.closeCode ?? 1006);
  if (wasOnline) {
    state.rejoining.clear();
    state.past.clear();
    // Sent and not yet delivered: it waits for the connection now, and says so.
    for (const message of state.outgoing) showWaiting(message);
  }
  renderConnection();
  renderAccount();
  countdown.start(event.delayMs ?? 0);
}

/** The client stopped for good: logged out, refused, or never got in. */
function onClosed(event: StateEvent): void {
  countdown.cancel();
  state.online = false;
  const code = event.error?.code;
  if (state.loggingOut || code === undefined || code === 'closed') {
    resetToLogin('Logged out.');
    return;
  }
  const refusal: Refusal | undefined = code === 'signed_in_elsewhere' ? 'signed_in_elsewhere' : refusalOfError(code);
  if (refusal) {
    showRefusal(refusal);
    return;
  }
  if (code === 'auth_required') {
    // A registered nick, and nothing to sign in with: the person is asked.
    askForPassword('');
    return;
  }
  if (SIGN_IN_FAILURES.has(code)) {
    onSignInRefused(code, event.error?.message);
    return;
  }
  const words = code === 'unreachable' ? closeInWords(event.closeCode ?? 1006) : code;
  if (!state.inChat) {
    // Never got in, and no refusal explained why.
    ui.loginError.textContent =
      (event.closeCode ?? 1006) === 1006 ? 'Could not reach the server. Is it running? Try again in a moment.' : `Could not log in: ${words}.`;
    setStatus('Not connected.');
    ui.nick.focus();
    return;
  }
  // The server ended the session in a way a retry would not mend (flooding, say): say so on the login form.
  hidePasswordRow();
  showLoginForm();
  setFieldError(ui.nick, ui.loginError, `The server closed the connection: ${closeInWords(event.closeCode ?? 1008)}. Log in again to go on.`);
  setStatus('Not logged in.');
  ui.nick.focus();
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
 * The server will not have this page logged in as it is: the SDK stopped,
 * since retrying would be refused again, so say why in words and offer the
 * next step on the login form. Tabs and unsent messages stay for the next login.
 */
function showRefusal(refusal: Refusal): void {
  countdown.cancel();
  dropClient();
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
  countdown.cancel();
  dropClient();
  state.inChat = false;
  state.loggingOut = false;
  state.owner = false;
  state.registering = false;
  state.outgoing = [];
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

function onLoggedIn(client: ChatClient): void {
  const returning = state.inChat;
  state.online = true;
  state.inChat = true;
  state.asking = false;
  state.lostBecause = '';
  // A token handed out means a registered nick signed in by its owner; a registration made here says so too.
  state.owner = state.loginToken !== undefined || (state.owner && returning);
  countdown.cancel();
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
    addLine(SERVER_TAB, 'presence', state.loginToken === undefined ? 'You logged in as ' : 'You signed in as ', nickSpan(state.nick), '.');
    setStatus(`Connected as ${state.nick}.`);
    ui.channelName.focus();
    return;
  }
  const channels = channelTabs().map((view) => view.name);
  state.rejoining = new Set(channels);
  setStatus(channels.length > 0 ? `Reconnected as ${state.nick}; rejoining ${channels.join(', ')}…` : `Reconnected as ${state.nick}.`);
  addLine(SERVER_TAB, 'notice', `Reconnected as ${state.nick}.`);
  // The SDK rejoins its own channels with `since`; a client for another nick starts with none, so the page joins them.
  const rejoinedBySdk = new Set(client.channels);
  for (const channel of channels) if (!rejoinedBySdk.has(channel)) requestJoin(channel, true);
  // What the last client could not deliver goes with this one, after the joins it needs.
  for (const message of state.outgoing) if (message.client === undefined) deliver(message);
}

// ---- signing in to a registered nick -------------------------------------------

/** Shows the login form with the password field; `problem` says what went wrong with the last try, if anything. */
function askForPassword(problem: string): void {
  state.asking = true;
  countdown.cancel();
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
}

/** A login was refused: a token the server no longer takes is forgotten, and the person is asked (again). */
function onSignInRefused(code: string, serverText: string | undefined): void {
  const usedToken = state.signingInWith === 'token';
  if (code === 'bad_token' || (usedToken && code === 'bad_password')) forgetToken(state.nick);
  // The server stopped waiting for a sign-in: nothing the person did was wrong, so nothing is said.
  const problem = code === 'auth_timeout' ? '' : (signInFailureInWords(code, state.nick) ?? errorInWords(code, 'sign-in', serverText));
  askForPassword(problem);
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
  state.registering = false;
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

// ---- requests ------------------------------------------------------------------

/** Whether a request failed because its client stopped (or was let go of), rather than because the server refused it. */
function clientStopped(client: ChatClient): boolean {
  return state.client !== client || client.state === 'closed';
}

function requestJoin(channel: string, rejoin: boolean): void {
  const client = state.client;
  if (!client) return;
  client.join(channel).then(
    (joined) => {
      if (state.client === client) onJoined(channel, joined.epoch, rejoin);
    },
    (error: ChatError) => {
      state.past.delete(channel);
      if (clientStopped(client)) return;
      const text = errorInWords(error.code, 'join', error.message);
      if (rejoin) onRejoinFailed(channel, text);
      else setFieldError(ui.channelName, ui.joinError, text);
    },
  );
}

function leaveChannel(channel: string): void {
  const client = state.client;
  if (!client) return;
  state.leaving.add(channel);
  client.leave(channel).catch((error: ChatError) => {
    state.leaving.delete(channel);
    if (!clientStopped(client)) addLine(channel, 'error', errorInWords(error.code, 'leave', error.message));
  });
}

/** Who is in a channel; if that fails only the member list stays stale, and nothing the person did failed. */
function requestMembers(channel: string): void {
  const client = state.client;
  client?.users(channel).then(
    (users) => {
      const view = state.tabs.get(channel);
      if (state.client !== client || !view?.members) return;
      view.nicks = users;
      renderList(view.members, users);
    },
    () => undefined,
  );
}

// ---- outgoing messages -------------------------------------------------------

/** Hands a message to the client, which sends it now or once its channel is back; it is done once the server delivered it. */
function deliver(message: Outgoing): void {
  const client = state.client;
  if (!client) {
    showWaiting(message);
    return;
  }
  message.client = client;
  if (!state.online || state.rejoining.has(message.channel)) showWaiting(message);
  client.send(message.channel, message.text).then(
    () => done(message),
    (error: ChatError) => {
      if (!state.outgoing.includes(message)) return;
      if (clientStopped(client)) {
        // Never delivered, and not refused by the server: the next login sends it.
        delete message.client;
        showWaiting(message);
        return;
      }
      done(message);
      giveBack(message);
      setFieldError(ui.message, ui.composeError, errorInWords(error.code, 'send', error.message));
    },
  );
}

function done(message: Outgoing): void {
  state.outgoing = state.outgoing.filter((m) => m !== message);
  message.line?.remove();
  delete message.line;
}

/** Shows a message as typed and not sent yet, in its channel's log. */
function showWaiting(message: Outgoing): void {
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

/** A refused message goes back into the message box when that is free, so it can be sent again. */
function giveBack(message: Outgoing): void {
  if (state.active === message.channel && ui.message.value === '') ui.message.value = message.text;
}

// ---- channel events ------------------------------------------------------------

/** A channel event as a line of its log, with the time the server stamped it with. */
function eventLine(event: ChannelEvent, extraKind = ''): HTMLLIElement {
  let kind: string;
  let parts: (Node | string)[];
  if (event.type === 'message') {
    kind = event.own ? 'message own' : 'message';
    parts = [nickSpan(event.user), ' ', h('span', { class: 'text' }, event.message)];
  } else {
    kind = 'presence';
    parts = [nickSpan(event.user), event.type === 'join' ? ` joined ${event.channel}.` : ` left ${event.channel}.`];
  }
  const line = h('li', { class: `line ${kind} ${extraKind}`.trim() }, timeElement(event.time), ' ', ...parts);
  line.dataset.offset = String(event.offset);
  return line;
}

/** False when the tab has shown this event already (an older page overlapping, say): it is not shown again. */
function isNew(tab: Tab, event: ChannelEvent): boolean {
  return !tab.history || tab.history.take(event.offset);
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

function onChannelEvent(event: ChannelEvent): void {
  const { channel } = event;
  // A joined channel's past, and this page's own join, come before the join is confirmed, which says how to show them.
  if (event.source === 'history' || (event.own && event.type === 'join' && event.source === 'live')) {
    const past = state.past.get(channel) ?? [];
    past.push(event);
    state.past.set(channel, past);
    return;
  }
  const tab = state.tabs.get(channel);
  if (!tab) return;
  if (event.own && event.type === 'leave') {
    onLeft(channel);
    return;
  }
  if (!isNew(tab, event)) return;
  appendLine(channel, eventLine(event));
  if (event.own || event.type === 'message' || !tab.members) return;
  tab.nicks = event.type === 'join' ? [...tab.nicks.filter((nick) => nick !== event.user), event.user] : tab.nicks.filter((nick) => nick !== event.user);
  renderList(tab.members, tab.nicks);
}

/**
 * A join confirmed, with the store's epoch: the channel's past heard before
 * it is shown, as earlier on a first join, or as what was missed when the
 * page joins a channel again under another nick.
 */
function onJoined(channel: string, epoch: string | undefined, rejoin: boolean): void {
  const tab = openTab(channel);
  const heard = state.past.get(channel) ?? [];
  state.past.delete(channel);
  const ownJoin = heard.find((event) => event.source === 'live');
  const past = heard.filter((event) => event !== ownJoin);
  const freshEpoch = tab.history?.joined(epoch) ?? false;
  showPast(tab, past, rejoin, true, freshEpoch);
  if (ownJoin && isNew(tab, ownJoin)) appendLine(channel, eventLine(ownJoin));
  renderOlder(tab);
  requestMembers(channel);
  if (rejoin) {
    onRejoined(channel);
    return;
  }
  // The name stays in the field until the join is confirmed, so a refusal can be fixed in place.
  if (canonicalChannel(ui.channelName.value.trim()) === channel) ui.channelName.value = '';
  setFieldError(ui.channelName, ui.joinError, '');
  selectTab(channel);
  ui.message.focus();
}

/**
 * The SDK rejoined a channel after a reconnect: everything missed follows at
 * once (as `recovered` events, which the SDK already told apart from what was
 * shown), or not all of it could be, which the log says under a marker.
 */
function onRecovery(channel: string, count: number, gap?: GapEvent): void {
  const tab = state.tabs.get(channel);
  if (!tab) return;
  if (gap) {
    if (gap.reason === 'epoch') tab.history?.startedAfresh();
    const why =
      gap.reason === 'epoch'
        ? 'the server started afresh and lost what was said before.'
        : 'the server no longer keeps all that was said while this page was disconnected.';
    appendLine(channel, markerLine('gap', `Some messages could not be recovered: ${why}`));
  } else if (count > 0) {
    appendLine(channel, markerLine('recovered', 'Recovered while you were disconnected'));
  }
  // The missed events follow in the same step: say the channel is back after them.
  queueMicrotask(() => {
    renderOlder(tab);
    requestMembers(channel);
    onRejoined(channel);
  });
}

function onRejoined(channel: string): void {
  state.rejoining.delete(channel);
  addLine(channel, 'notice', `Rejoined ${channel}.`);
  if (state.rejoining.size === 0) {
    setStatus(`Reconnected as ${state.nick}; rejoined ${channelTabs().map((view) => view.name).join(', ')}.`);
  }
}

function onRejoinFailed(channel: string, text: string): void {
  state.rejoining.delete(channel);
  addLine(channel, 'error', `Could not rejoin ${channel}: ${text}`);
}

/** An error no request of the page's was waiting for: a rejoin the server refused, or something said in passing. */
function onUnaskedError(error: ChatError, channel: string | undefined): void {
  const text = errorInWords(error.code, undefined, error.message);
  if (channel !== undefined) onRejoinFailed(channel, text);
  else addLine(state.active, 'error', text);
}

/** This page left a channel: its tab and what waited for it go. */
function onLeft(channel: string): void {
  for (const message of state.outgoing.filter((m) => m.channel === channel)) done(message);
  closeTab(channel);
  addLine(SERVER_TAB, 'presence', `You left ${channel}.`);
  if (state.leaving.delete(channel)) {
    // The Leave button went with its tab: go on writing in the tab now showing, or join another.
    if (state.active === SERVER_TAB) ui.channelName.focus();
    else ui.message.focus();
  }
}

function onLogin(user: string): void {
  if (!state.onlineNicks.includes(user)) state.onlineNicks.push(user);
  renderOnline();
  addLine(SERVER_TAB, 'presence', nickSpan(user), ' logged in.');
}

function onLogout(user: string): void {
  state.onlineNicks = state.onlineNicks.filter((nick) => nick !== user);
  renderOnline();
  addLine(SERVER_TAB, 'presence', nickSpan(user), ' logged out.');
}

/**
 * The channel's past, heard before this page's join was confirmed. On a
 * first join it is the conversation so far, shown as earlier; on a join under
 * another nick after a refusal it is what was missed meanwhile.
 */
function showPast(tab: Tab, past: ChannelEvent[], rejoin: boolean, recovered: boolean, freshEpoch: boolean): void {
  const fresh = past.filter((event) => isNew(tab, event));
  if (!rejoin) {
    if (fresh.length === 0) return;
    appendLine(tab.name, markerLine('earlier-start', `Earlier in ${tab.name}`));
    for (const event of fresh) appendLine(tab.name, eventLine(event, 'earlier'));
    return;
  }
  if (!recovered || freshEpoch) {
    const why = freshEpoch
      ? 'the server started afresh and lost what was said before.'
      : 'the server no longer keeps all that was said while this page was disconnected.';
    appendLine(tab.name, markerLine('gap', `Some messages could not be recovered: ${why}`));
  } else if (fresh.length > 0) {
    appendLine(tab.name, markerLine('recovered', 'Recovered while you were disconnected'));
  }
  for (const event of fresh) appendLine(tab.name, eventLine(event));
}

function requestOlder(channel: string): void {
  const tab = state.tabs.get(channel);
  const client = state.client;
  if (!tab?.history || !tab.older || !state.online || !client) return;
  const button = tab.older.querySelector('button')!;
  button.disabled = true;
  button.textContent = 'Loading older messages…';
  const before = tab.history.oldest;
  client.history(channel, { limit: PAGE_SIZE, ...(before === undefined ? {} : { before }) }).then(
    (page) => {
      if (state.client === client) onPage(channel, page.events, page.more);
    },
    (error: ChatError) => {
      const view = state.tabs.get(channel);
      if (view?.older) {
        view.older.querySelector('button')!.textContent = 'Load older messages';
        renderOlder(view);
      }
      if (!clientStopped(client)) addLine(channel, 'error', `Could not load older messages: ${errorInWords(error.code, 'history', error.message)}`);
    },
  );
}

/** A page of older events: inserted above what is shown, keeping the reader's place. */
function onPage(channel: string, events: ChannelEvent[], more: boolean): void {
  const tab = state.tabs.get(channel);
  if (!tab?.history || !tab.older) return;
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
  tab.history.paged(more && events.length > 0);
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

// ---- user actions ------------------------------------------------------------

/** Logs in as `nick`, with a client of its own: whatever the last one was doing is let go of. */
function logIn(nick: string, password?: string): void {
  countdown.cancel();
  dropClient();
  state.nick = nick;
  state.asking = false;
  setStatus(password === undefined ? `Connecting as ${nick}…` : `Checking the password for ${nick}…`);
  connect(password);
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
  // The client that was refused has stopped: a new one signs in with the password.
  logIn(nick, password);
});

// A problem shown for a field is about what was in it: editing it makes the problem stale.
ui.nick.addEventListener('input', () => {
  const nick = ui.nick.value.trim();
  // Another nick is not the registered one the password was asked for.
  if (!ui.passwordRow.hidden && nick !== state.nick) {
    hidePasswordRow();
    dropClient();
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
  requestJoin(channel, false);
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
  const message: Outgoing = { channel: state.active, text };
  state.outgoing.push(message);
  ui.message.value = '';
  deliver(message);
});

ui.retry.addEventListener('click', () => state.client?.reconnectNow());

// A phone turned sideways and back (or a resized window) must not leave the open tab scrolled out of its row.
window.addEventListener('resize', () => state.tabs.get(state.active)?.button.scrollIntoView({ block: 'nearest', inline: 'nearest' }));

ui.startOver.addEventListener('click', () => {
  resetToLogin('Not connected.');
  setFieldError(ui.nick, ui.loginError, '');
});

ui.logout.addEventListener('click', () => {
  state.loggingOut = true;
  countdown.cancel();
  // Logged out on purpose: opening the page again should not sign straight back in.
  stopResuming();
  // The client logs out (close 1000, which frees the nick at once) and says `closed`, which resets the page.
  if (state.client && state.client.state !== 'closed') void state.client.close();
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
  if (state.registering) return;
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
  const client = state.client;
  if (!client) return;
  state.registering = true;
  ui.registerSubmit.disabled = true;
  ui.registerSubmit.textContent = 'Registering…';
  // Once registered, the client signs back in with this password after a drop, until a login hands it a token.
  client.register(password).then(
    () => {
      if (state.client === client) onRegistered();
    },
    (error: ChatError) => {
      state.registering = false;
      if (state.client !== client) return;
      showRegisterProblem(
        error.code === 'connection_lost' || error.code === 'closed'
          ? 'The connection dropped before the server answered, so the nick is not registered. Try again once the page is back.'
          : errorInWords(error.code, 'register', error.message),
      );
    },
  );
});

ui.registerCancel.addEventListener('click', () => ui.registerDialog.close());
// However it closes (Cancel, Escape), the password typed is not left in the page.
ui.registerDialog.addEventListener('close', () => {
  if (!state.registering) ui.newPassword.value = '';
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
