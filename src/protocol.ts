/**
 * @module protocol: client frames, validated at the edge.
 *
 * One zod discriminated union describes every frame a client may send. A raw
 * text frame goes in; a typed session command comes out, either the request
 * itself or `client.invalid` carrying the error code the client will get.
 * Machines never see anything that did not pass through here.
 */
import { z } from 'zod';
import type { ClientCommand } from '../machines/commands.js';
import { errorMessages, type ErrorCode, type RequestId } from '../machines/frames.js';
import {
  DEFAULT_PAGE_LIMIT,
  MAX_EPOCH_LENGTH,
  MAX_MESSAGE_LENGTH,
  MAX_PAGE_LIMIT,
  MAX_PASSWORD_LENGTH,
  MAX_REQUEST_ID_LENGTH,
  MIN_PASSWORD_LENGTH,
} from '../machines/limits.js';
import { canonicalChannel } from '../machines/names.js';

/** A custom zod issue that carries the protocol error code it stands for. */
function fail(ctx: z.RefinementCtx, code: ErrorCode): never {
  ctx.addIssue({ code: 'custom', message: errorMessages[code], params: { code } });
  return z.NEVER;
}

const channelName = z.string().transform((name, ctx) => canonicalChannel(name) ?? fail(ctx, 'invalid_channel'));

const messageText = z
  .string()
  .transform((text, ctx) =>
    text.length >= 1 && text.length <= MAX_MESSAGE_LENGTH ? text : fail(ctx, 'invalid_message'),
  );

/** A password being set; one being checked may be anything (a wrong one is simply wrong). */
const newPassword = z
  .string()
  .transform((password, ctx) =>
    password.length >= MIN_PASSWORD_LENGTH && password.length <= MAX_PASSWORD_LENGTH ? password : fail(ctx, 'weak_password'),
  );

const requestId = z.union([z.string().max(MAX_REQUEST_ID_LENGTH), z.number().int()]);

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal(0), dest: channelName, message: messageText }),
  z.object({ type: z.literal(1), password: newPassword, old_password: z.string().optional() }),
  z.object({ type: z.literal(2), user: z.string().optional(), password: z.string().optional(), token: z.string().optional() }),
  z.object({ type: z.literal(3) }),
  z.object({
    type: z.literal(4),
    channel: channelName,
    since: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
    epoch: z.string().max(MAX_EPOCH_LENGTH).optional(),
  }),
  z.object({ type: z.literal(5), channel: channelName }),
  z.object({ type: z.literal(6), channel: channelName.optional() }),
  z.object({
    type: z.literal(8),
    channel: channelName,
    before: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).optional(),
  }),
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;

const knownTypes = new Set([0, 1, 2, 3, 4, 5, 6, 8]);

function invalid(code: ErrorCode, id?: RequestId, message?: string): ClientCommand {
  const command: ClientCommand = { type: 'client.invalid', code };
  if (id !== undefined) command.id = id;
  if (message !== undefined) command.message = message;
  return command;
}

/** Maps a validated frame to the session command it asks for. */
function toCommand(frame: ClientFrame, id: RequestId | undefined): ClientCommand {
  const withId = <T extends ClientCommand>(command: T): T => (id === undefined ? command : { ...command, id });
  switch (frame.type) {
    case 0:
      return withId({ type: 'client.message', channel: frame.dest, message: frame.message });
    case 1:
      return withId(
        frame.old_password === undefined
          ? { type: 'client.register', password: frame.password }
          : { type: 'client.register', password: frame.password, oldPassword: frame.old_password },
      );
    case 2:
      return withId({
        type: 'client.login',
        ...(frame.user === undefined ? {} : { user: frame.user }),
        ...(frame.password === undefined ? {} : { password: frame.password }),
        ...(frame.token === undefined ? {} : { token: frame.token }),
      });
    case 3:
      return withId({ type: 'client.logout' });
    case 4:
      return withId({
        type: 'client.join',
        channel: frame.channel,
        ...(frame.since === undefined ? {} : { since: frame.since }),
        ...(frame.epoch === undefined ? {} : { epoch: frame.epoch }),
      });
    case 5:
      return withId({ type: 'client.leave', channel: frame.channel });
    case 6:
      return withId(frame.channel === undefined ? { type: 'client.list' } : { type: 'client.list', channel: frame.channel });
    case 8:
      return withId({
        type: 'client.history',
        channel: frame.channel,
        limit: frame.limit ?? DEFAULT_PAGE_LIMIT,
        ...(frame.before === undefined ? {} : { before: frame.before }),
      });
  }
}

/** Parses one text frame into the command a session acts on; never throws. */
export function parseClientFrame(text: string): ClientCommand {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid('bad_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('bad_json');
  const raw = value as Record<string, unknown>;

  let id: RequestId | undefined;
  if (raw.id !== undefined) {
    const parsedId = requestId.safeParse(raw.id);
    if (!parsedId.success) {
      return invalid('bad_request', undefined, `"id" must be a string of up to ${MAX_REQUEST_ID_LENGTH} characters or an integer.`);
    }
    id = parsedId.data;
  }

  if (typeof raw.type !== 'number' || !Number.isInteger(raw.type)) {
    return invalid('bad_request', id, '"type" must be an integer. See docs/protocol.md for the frame types.');
  }
  if (!knownTypes.has(raw.type)) return invalid('unknown_type', id);

  const parsed = clientFrameSchema.safeParse(raw);
  if (parsed.success) return toCommand(parsed.data, id);

  // A missing or mistyped field outranks a bad value in another field.
  const issues = parsed.error.issues;
  const structural = issues.find((issue) => issue.code !== 'custom');
  if (structural) {
    const field = structural.path.join('.');
    return invalid('bad_request', id, `Field "${field}" is missing or has the wrong type. See docs/protocol.md.`);
  }
  const code = (issues[0] as { params?: { code?: ErrorCode } }).params?.code ?? 'bad_request';
  return invalid(code, id);
}

/**
 * The request id a text frame carries, without validating the rest: for
 * answering a frame refused before it was parsed (`rate_limited`), so the
 * client learns which request was not acted upon. Parsing only refused frames
 * costs little: a session that keeps flooding is closed after
 * `--flood-refusals` of them.
 */
export function requestIdOf(text: string): RequestId | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const parsed = requestId.safeParse((value as { id?: unknown }).id);
  return parsed.success ? parsed.data : undefined;
}
