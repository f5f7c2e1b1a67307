import { describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/model.js';
import { recapExitCode, recapRows, renderRecap } from '../../src/cli/recap.js';
import { header, hostStarted, journal, playbookStarted, stepDone } from '../helpers/journal.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const finishedHost = (host: string): Parameters<typeof journal>[1][] => [hostStarted(host), playbookStarted(host), ...stepDone(host, 's1'),
  { type: 'playbook-finished', host, playbook: 'p', outcome: 'succeeded' }, { type: 'host-finished', host, outcome: 'succeeded', failed: null, outcomes: { p: 'succeeded' } }];

describe('recap and exit codes', () => {
  it('counts changes per host, keeps diagnosed hosts the run left out, and exits 1 for a host left unfixed', () => {
    const records = journal(header(['a']), ...finishedHost('a'), { type: 'run-finished', outcomes: { a: 'succeeded' } });
    const report = buildReport(records, { now: NOW, diagnosis: [
      { host: 'a', playbooks: ['p'], unfixable: [] }, { host: 'ok', playbooks: [], unfixable: [] },
      { host: 'dns', playbooks: [], unfixable: [{ cause: 'dns-mismatch', why: 'fixed in DNS, not on the host' }] }] });
    const rows = recapRows(report);
    expect(rows.map((r) => [r.host, r.state, r.changed, r.unchanged, r.failed, r.undone])).toEqual([
      ['a', 'succeeded', 1, 0, 0, 0], ['ok', 'healthy', 0, 0, 0, 0], ['dns', 'unfixed', 0, 0, 0, 0]]);
    expect(rows[2]!.detail).toBe('left unfixed: dns-mismatch (fixed in DNS, not on the host)');
    expect(renderRecap(rows)).toMatch(/3 host\(s\): 1 succeeded, 1 healthy, 1 unfixed\.$/);
    expect(recapExitCode(rows, 'apply')).toBe(1);
    expect(recapExitCode(rows.slice(0, 2), 'apply')).toBe(0);
  });

  it('exits 4 when a host is in an unknown state, and fits long details into 120 columns', () => {
    const crashed = journal(header(['a', 'b']), ...finishedHost('a'), hostStarted('b'), playbookStarted('b'), ...stepDone('b', 's1').slice(0, 2));
    const rows = recapRows(buildReport(crashed, { now: NOW }));
    expect(rows.find((r) => r.host === 'b')).toMatchObject({ state: 'unknown', detail: expect.stringMatching(/rdpfix resume/) });
    expect(recapExitCode(rows, 'apply')).toBe(4);
    for (const line of renderRecap(rows).split('\n')) expect(line.length).toBeLessThanOrEqual(120);
  });

  it('a host stopped by Ctrl-C between steps is stopped, names where and what settles it, and exits 4 (not done, not failed)', () => {
    const stopped = journal(header(['a', 'b']), ...finishedHost('a'), hostStarted('b'), playbookStarted('b'), ...stepDone('b', 's1'),
      { type: 'playbook-finished', host: 'b', playbook: 'p', outcome: 'stopped', stoppedBefore: 's2' },
      { type: 'host-finished', host: 'b', outcome: 'stopped', failed: null, outcomes: { p: 'stopped' } },
      { type: 'run-finished', outcomes: { a: 'succeeded', b: 'stopped' } });
    const rows = recapRows(buildReport(stopped, { now: NOW }));
    expect(rows.find((r) => r.host === 'b')).toMatchObject({ state: 'stopped', changed: 1, failed: 0, detail: expect.stringMatching(/stopped before s2 .*rdpfix resume/) });
    expect(recapExitCode(rows, 'apply')).toBe(4);
  });
});
