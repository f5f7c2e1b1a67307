import { RdpfixError } from '../errors.js';
import type { RunState } from './run-state.js';

/**
 * The hosts of a past run worth running again: failed (before or after a rollback of their own changes) or never
 * reached. A host whose end the journal does not know, or whose undo was incomplete, is not retried blindly.
 */
export function retryHosts(state: RunState, runId: string): string[] {
  const hosts = Object.values(state.hosts);
  // A host stopped by Ctrl-C is unfinished, not failed: resume continues it from the step where it stopped.
  const unsettled = hosts.filter((h) => h.state === 'unknown' || h.state === 'stopped' || h.state === 'rollback-incomplete');
  if (unsettled.length) {
    throw new RdpfixError('usage', `--retry ${runId}: ${unsettled.map((h) => `${h.host} (${h.state})`).join(', ')} must be settled first.`, `Finish or undo that run first: rdpfix resume ${runId}, or rdpfix rollback ${runId}.`);
  }
  return hosts.filter((h) => h.state === 'failed' || h.state === 'failed-rolled-back' || h.state === 'not-reached').map((h) => h.host);
}
