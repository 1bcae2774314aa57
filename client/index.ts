/**
 * @module xstate-chat/client: a typed client for the chat server, in
 * browsers and in Node, whose connection is itself an XState statechart.
 *
 * ```ts
 * import { WebSocket } from 'ws';
 * import { connect } from 'xstate-chat/client';
 * const chat = await connect({ url: 'ws://127.0.0.1:8667', nick: 'bot', WebSocket });
 * ```
 */
export { connect, createChatClient, loginUrl, ChatClient, type ConnectOptions, type HistoryPage, type JoinResult } from './client.js';
export { ChatError, type ChatErrorCode, type ClientErrorCode } from './errors.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { connectionMachine, type ConnectionActor, type ConnectionContext } from './connection.machine.js';
export type * from './events.js';
export type { ErrorCode, IncomingFrame, OutgoingFrame, RequestId, ChannelEventFrame, HistoryPageFrame } from './frames.js';
export type { WebSocketConstructor, WebSocketLike } from './socket.js';
