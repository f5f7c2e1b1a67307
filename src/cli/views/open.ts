import { EventStream } from '../../engine/events.js';
import { chooseView, wantsColour, type ViewFlags, type ViewKind } from './choose.js';
import { ndjsonView } from './ndjson.js';
import { plainView } from './plain.js';

export interface Progress {
  kind: ViewKind;
  events: EventStream;
  /** Waits until the view has drawn everything (call before printing the result). */
  close(): Promise<void>;
  /** Tells the person at the terminal something about the whole run now (`short` where the live view shows it). */
  notice(text: string, short: string): void;
}

/** The event stream of one command, with the view its flags and terminal call for (src/cli/views/choose.ts). */
export async function openProgress(flags: ViewFlags, io: { stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream; env?: NodeJS.ProcessEnv } = {}): Promise<Progress> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  const kind = chooseView(flags, stderr, env);
  const events = new EventStream();
  let close = async () => {};
  let notice = (text: string, _short: string) => void stderr.write(text);
  switch (kind) {
    case 'ndjson':
      events.subscribe(ndjsonView(stdout));
      break;
    case 'plain':
      events.subscribe(plainView(stderr, { colour: wantsColour(stderr, env) }));
      break;
    case 'listr': {
      // listr2 is loaded only for a terminal.
      const { ListrView } = await import('./listr.js');
      const view = new ListrView(stderr);
      events.subscribe(view.listener);
      close = () => view.close();
      notice = (text, short) => {
        if (!view.notice(short)) stderr.write(text);
      };
      break;
    }
    case 'quiet':
      break;
  }
  return { kind, events, close, notice };
}

/** The diagnosis's progress as events: started, one per host probed, finished (with how many are healthy). */
export function diagnosisEvents(events: EventStream, total: number) {
  let probed = 0;
  events.activity({ type: 'diagnosis-started', hosts: total });
  return {
    onProbed: (host: string, reached: boolean) => events.activity({ type: 'diagnosis-progress', host, probed: ++probed, total, reached }),
    finished: (result: { healthy: boolean }[]) => events.activity({ type: 'diagnosis-finished', hosts: result.length, healthy: result.filter((h) => h.healthy).length }),
  };
}
