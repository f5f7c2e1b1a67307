import { z } from 'zod';
import type { TransportTarget } from '../transport/targets.js';

/** Error categories a person can act on (docs/remoting-errors.md). */
export type ErrorCategory = 'unreachable' | 'auth' | 'trust' | 'timeout' | 'script' | 'not-found' | 'process';

/** One call: run `script` on `target` with `args` (Invoke-Command semantics). */
export interface InvokeRequest {
  id: string;
  op: 'invoke';
  target: TransportTarget & { sessionKey: string };
  /** sha256 of the script text: the text crosses to a PowerShell process once, then only its hash. */
  scriptHash: string;
  script: string;
  args: unknown[];
  timeoutMs: number;
}

export interface CloseRequest {
  id: string;
  op: 'close';
  target: { sessionKey: string };
}

export type BrokerRequest = InvokeRequest | CloseRequest;

const rawError = z.object({
  origin: z.enum(['transport', 'script', 'timeout', 'broker', 'process']),
  message: z.string(),
  fqid: z.string().nullable().optional(),
  category: z.string().nullable().optional(),
  target: z.string().nullable().optional(),
  exceptionType: z.string().nullable().optional(),
  errorCode: z.number().nullable().optional(),
});
export type RawError = z.infer<typeof rawError>;

const streams = z.object({
  warning: z.array(z.string()),
  verbose: z.array(z.string()),
  information: z.array(z.string()),
  progress: z.array(z.object({ activity: z.string().nullable(), status: z.string().nullable(), percent: z.number() })),
  error: z.array(rawError),
});
export type Streams = z.infer<typeof streams>;

export const emptyStreams = (): Streams => ({ warning: [], verbose: [], information: [], progress: [], error: [] });

const rawReply = z.object({
  id: z.string(),
  ok: z.boolean(),
  durationMs: z.number().optional(),
  data: z.object({ output: z.array(z.unknown()).optional(), streams: streams.optional(), closed: z.boolean().optional() }).optional(),
  error: rawError.optional(),
});
export type RawReply = z.infer<typeof rawReply>;

/** `sweeps`: how often this pump looked through the calls waiting for a runspace (a cost to keep low, see the pump). */
export const pumpReply = z.object({ replies: z.array(rawReply), inFlight: z.number(), known: z.array(z.string()).default([]), console: z.string().optional(), sweeps: z.number().default(0) });
export const initReply = z.object({ pid: z.number(), psVersion: z.string(), psEdition: z.string(), runspaces: z.number() });

/** What a caller gets back: one envelope, success or a classified error. */
export type Envelope =
  | { ok: true; data: { output: unknown[]; streams: Streams; durationMs: number } }
  | {
      ok: false;
      error: { category: ErrorCategory; message: string; fqid?: string; target?: string; origin: RawError['origin'] };
      data?: { output: unknown[]; streams: Streams; durationMs: number };
    };
