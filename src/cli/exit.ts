import { RdpfixError } from '../errors.js';
import { escapeControlKeepLines } from '../safe-text.js';

/** Exit codes, in one place (docs/cli.md): */
export const EXIT = {
  ok: 0,
  /** The command ran, and at least one host failed or is unhealthy. */
  hostsFailed: 1,
  /** Bad flags, arguments or input files. Nothing was changed. */
  usage: 2,
  /** The environment is not set up (PowerShell missing, a secret not provided). */
  config: 3,
  /** The command ran, and some host is in an unknown state (interrupted): `rdpfix resume RUN` settles it. */
  unsettled: 4,
  internal: 70,
} as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof RdpfixError) {
    switch (err.kind) {
      case 'usage':
      case 'input':
        return EXIT.usage;
      case 'config':
        return EXIT.config;
      case 'remote':
        return EXIT.hostsFailed;
      default:
        return EXIT.internal;
    }
  }
  return EXIT.internal;
}

/** What the user sees. Messages quote untrusted files and hosts: control characters never reach the terminal raw. */
export function describeError(err: unknown): string {
  if (err instanceof RdpfixError) return escapeControlKeepLines(`rdpfix: ${err.message}${err.fix ? `\n  Fix: ${err.fix}` : ''}`);
  return escapeControlKeepLines(`rdpfix: internal error: ${(err as Error)?.stack ?? String(err)}`);
}
