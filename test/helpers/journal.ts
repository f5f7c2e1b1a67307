import type { JournalRecord, RecordBody, RunHeader } from '../../src/journal/records.js';
import { JOURNAL_FORMAT } from '../../src/journal/records.js';

export const RUN_ID = '20261125-221500-a1b2c3';

export function header(hosts: string[], o: Partial<RunHeader> = {}): RunHeader {
  return {
    format: JOURNAL_FORMAT, runId: RUN_ID, version: 'test', mode: 'apply', inventory: '/inv.yaml',
    hosts: hosts.map((name) => ({ name, tags: [], transport: { kind: 'lab' as const, state: `/lab/${name}.json` } })),
    playbooks: [{ id: 'p', version: 1, digest: 'd' }], parameters: {}, allowIrreversible: false, concurrency: 4, ...o,
  };
}

/** Records as a journal would hold them: numbered, timed, in order. */
export function journal(h: RunHeader, ...bodies: RecordBody[]): JournalRecord[] {
  return [{ type: 'run-started', header: h } as RecordBody, ...bodies].map((b, i) => ({ seq: i + 1, time: `2026-11-25T22:15:${String(i).padStart(2, '0')}Z`, ...b }) as JournalRecord);
}

const ok = { warnings: [] as string[] };
/** The records of one step applied and verified on a host. */
export const stepDone = (host: string, step: string, playbook = 'p'): RecordBody[] => [
  { type: 'step-checked', host, playbook, step, result: { compliant: false, ...ok } },
  { type: 'step-checkpoint', host, playbook, step, state: null },
  { type: 'step-applied', host, playbook, step, result: { changed: true, ...ok } },
  { type: 'step-verified', host, playbook, step, left: 1, result: { ok: true, ...ok } },
];
export const stepUndone = (host: string, step: string, playbook = 'p'): RecordBody[] => [
  { type: 'undo-started', host, playbook, step },
  { type: 'step-undone', host, playbook, step, result: { changed: true, ...ok } },
];
export const hostStarted = (host: string, playbooks = ['p']): RecordBody => ({ type: 'host-started', host, playbooks, mode: 'apply' });
export const playbookStarted = (host: string, playbook = 'p'): RecordBody => ({ type: 'playbook-started', host, playbook, mode: 'apply' });
