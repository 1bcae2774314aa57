/**
 * @module trace-file: reads a trace file (see src/inspection/trace.ts) and
 * checks it is one, with an error that says what is wrong and what to do.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { TRACE_FORMAT, TRACE_VERSION, type Trace } from '../inspection/trace.js';

const entry = z.object({
  seq: z.number(),
  at: z.number(),
  dir: z.enum(['in', 'out']),
  source: z.string().nullable(),
  target: z.string(),
  type: z.string(),
  event: z.record(z.string(), z.unknown()),
  value: z.unknown().optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  transitions: z.array(z.string()).optional(),
});

const traceSchema = z.object({
  format: z.literal(TRACE_FORMAT),
  version: z.literal(TRACE_VERSION),
  node: z.string().nullable(),
  recordedAt: z.string(),
  bodies: z.boolean(),
  actor: z.object({ id: z.string(), label: z.string(), machine: z.string().nullable() }),
  dropped: z.number(),
  events: z.array(entry),
});

export class TraceError extends Error {
  override name = 'TraceError';
}

export function parseTrace(text: string, file: string): Trace {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TraceError(`${file} is not JSON (${(error as Error).message}). Download the trace again from the inspector.`);
  }
  const parsed = traceSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TraceError(
      `${file} is not an xstate-chat trace (version ${TRACE_VERSION}): ${issue.path.join('.') || 'the file'}: ${issue.message}. Use a file from the inspector's “Download trace”.`,
    );
  }
  return parsed.data as Trace;
}

export async function readTrace(file: string): Promise<Trace> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new TraceError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Give the path of a trace downloaded from the inspector.`);
  }
  return parseTrace(text, file);
}
