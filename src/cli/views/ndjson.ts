import type { EngineEvent } from '../../engine/events.js';

/** `--json` on plan/apply/rollback/resume: one event per line on stdout; the command's summary is the last line. */
export function ndjsonView(stream: NodeJS.WritableStream): (e: EngineEvent) => void {
  return (e) => void stream.write(`${JSON.stringify(e)}\n`);
}
