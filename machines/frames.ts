/**
 * @module frames: the frames the server sends to clients, and their encoding.
 *
 * Machines build these plain objects and encode each one exactly once; the
 * string is what travels between actors, so a broadcast to a thousand members
 * costs one `JSON.stringify`, not a thousand.
 */

/** A request id echoed on errors and list answers, as the client sent it. */
export type RequestId = string | number;

export const ErrorCodes = [
  'bad_json',
  'bad_request',
  'unknown_type',
  'invalid_nick',
  'nick_taken',
  'invalid_channel',
  'invalid_message',
  'not_member',
  'already_member',
  'already_logged_in',
  'rate_limited',
  'too_many_channels',
  'already_registered',
  'not_registered',
  'weak_password',
  'bad_password',
  'bad_token',
  'auth_required',
  'auth_timeout',
  'auth_throttled',
  'unavailable',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

/** The default human-readable text for each error code: what went wrong and what to do. */
export const errorMessages: Record<ErrorCode, string> = {
  bad_json: 'The frame is not a JSON object. Send one JSON object per text frame.',
  bad_request: 'The frame is missing a field or has one of the wrong type. See docs/protocol.md.',
  unknown_type:
    'Unknown frame type. Use 0 (message), 1 (register), 2 (login), 3 (logout), 4 (join), 5 (leave), 6 (list users) or 8 (history).',
  invalid_nick: 'Invalid nick: use 1 to 32 letters, digits, "_" or "-".',
  nick_taken: 'That nick is in use. Pick another one and connect again.',
  invalid_channel: 'Invalid channel name: use 1 to 32 letters, digits, "_" or "-", optionally after "#".',
  invalid_message: 'A message must be a string of 1 to 2048 characters.',
  not_member: 'You are not a member of that channel. Join it first.',
  already_member: 'You are already a member of that channel.',
  already_logged_in: 'This connection is already logged in; logging in happens when connecting.',
  rate_limited: 'Too many frames: this one was ignored. Slow down; a client that keeps flooding is disconnected.',
  too_many_channels: 'You are in as many channels as one connection may be. Leave one before joining another.',
  already_registered: 'This nick is already registered. To change its password, send {"type":1,"password":NEW,"old_password":OLD}.',
  not_registered: 'This nick is not registered, so it has no password to change. Send {"type":1,"password":P} to register it.',
  weak_password: 'A password must be 8 to 1024 characters long.',
  bad_password: 'Wrong password. After 3 failed logins on one connection it is closed; after 5 in a row the nick is locked for a while.',
  bad_token: 'That resume token is unknown, expired or revoked. Log in with {"type":2,"user":NICK,"password":P} instead.',
  auth_required:
    'This nick is registered. Send {"type":2,"user":NICK,"password":P}, or {"type":2,"user":NICK,"token":T} with a resume token, within 30 seconds.',
  auth_timeout: 'No login arrived in time for this registered nick; the connection is closed. Connect again and send the password at once.',
  auth_throttled: 'Too many wrong passwords for this nick or from your address, or too many logins at once: wait a minute and try again.',
  unavailable: 'The server cannot reach its store right now, so this request was not done. Try again shortly.',
};

export const FrameType = {
  message: 0,
  register: 1,
  login: 2,
  logout: 3,
  join: 4,
  leave: 5,
  list: 6,
  history: 8,
  error: -1,
} as const;

export type ServerFrame =
  | { type: 0; dest: string; message: string; user: string }
  | { type: 1; user: string; changed?: true; id?: RequestId }
  | { type: 2; user: string; token?: string }
  | { type: 3; user: string }
  | { type: 4; channel: string; user: string }
  | { type: 5; channel: string; user: string }
  | { type: 6; users: string[]; channel?: string; id?: RequestId }
  | { type: -1; code: ErrorCode; message: string; id?: RequestId };

/** Serializes a frame for the wire. Outgoing frames are built by the server, so they need no validation. */
export function encode(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

export function errorFrame(code: ErrorCode, id?: RequestId, message = errorMessages[code]): ServerFrame {
  return id === undefined ? { type: -1, code, message } : { type: -1, code, message, id };
}

export function usersFrame(users: string[], channel?: string, id?: RequestId): ServerFrame {
  const frame: ServerFrame = { type: 6, users };
  if (channel !== undefined) frame.channel = channel;
  if (id !== undefined) frame.id = id;
  return frame;
}
