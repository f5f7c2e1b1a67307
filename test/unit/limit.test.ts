import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLimit, selectByLimit } from '../../src/inventory/limit.js';
import { retryHosts } from '../../src/engine/retry.js';
import { foldRun } from '../../src/engine/run-state.js';
import { header, hostStarted, journal, playbookStarted, stepDone } from '../helpers/journal.js';

const hosts = [
  { name: 'web01', groups: ['windows', 'web'], tags: ['prod'] },
  { name: 'web02', groups: ['windows', 'web'], tags: ['staging'] },
  { name: 'web03', groups: ['windows', 'web'], tags: ['prod'] },
  { name: 'db01', groups: ['windows', 'db'], tags: ['prod'] },
  { name: 'jump', groups: [], tags: [] },
];
const names = (pattern: string) => selectByLimit(hosts, pattern, 'inv.ini').map((h) => h.name);

describe('--limit patterns', () => {
  it('selects by name, group, glob, tag, union, intersection and exclusion, as Ansible orders them', () => {
    expect(names('web02')).toEqual(['web02']);
    expect(names('WEB')).toEqual(['web01', 'web02', 'web03']); // groups, case-insensitive
    expect(names('web0?,jump')).toEqual(['web01', 'web02', 'web03', 'jump']);
    expect(names('windows:&tag:prod')).toEqual(['web01', 'web03', 'db01']);
    // Exclusions apply last, wherever written: '!web03' first still removes web03 from the union.
    expect(names('!web03:web:db')).toEqual(['web01', 'web02', 'db01']);
    expect(names('all:!windows')).toEqual(['jump']);
    expect(names('*:&tag:prod:!db*')).toEqual(['web01', 'web03']);
  });

  it('reads @FILE of names; a misspelled name, an empty term or an empty selection is an error (exit 2)', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-limit-')), 'retry');
    writeFileSync(file, 'web02\n# a comment\ndb01\n');
    expect(names(`@${file}`)).toEqual(['web02', 'db01']);
    expect(() => names('web0l')).toThrow(/'web0l' matches no host, group or tag in inv\.ini/);
    expect(() => names('web*:&tag:nope*')).toThrow(/selects no host in inv\.ini/);
    expect(() => names('web::db')).toThrow(/empty term/);
    expect(() => names('web:!')).toThrow(/empty term/);
    expect(parseLimit('tag:prod:!web01')).toEqual([{ op: 'union', text: 'tag:prod' }, { op: 'exclude', text: 'web01' }]);
  });
});

describe('apply --retry', () => {
  it('takes the failed and the unreached hosts of a run, and refuses a run with hosts in an unknown state', () => {
    const failed = [hostStarted('a'), playbookStarted('a'),
      { type: 'step-failed' as const, host: 'a', playbook: 'p', step: 's1', phase: 'check' as const, category: 'script', message: 'boom' },
      { type: 'playbook-finished' as const, host: 'a', playbook: 'p', outcome: 'rolledBack' as const },
      { type: 'host-finished' as const, host: 'a', outcome: 'rolledBack' as const, failed: 'p', outcomes: { p: 'rolledBack' as const } }];
    const ok = [hostStarted('b'), playbookStarted('b'), ...stepDone('b', 's1'), { type: 'playbook-finished' as const, host: 'b', playbook: 'p', outcome: 'succeeded' as const },
      { type: 'host-finished' as const, host: 'b', outcome: 'succeeded' as const, failed: null, outcomes: { p: 'succeeded' as const } }];
    const finished = foldRun(journal(header(['a', 'b', 'c']), ...failed, ...ok, { type: 'run-finished', outcomes: { a: 'rolledBack', b: 'succeeded' } }));
    expect(Object.fromEntries(Object.values(finished.hosts).map((h) => [h.host, h.state]))).toEqual({ a: 'failed', b: 'succeeded', c: 'not-reached' });
    expect(retryHosts(finished, 'R')).toEqual(['a', 'c']);
    const crashed = foldRun(journal(header(['a', 'b']), ...failed, hostStarted('b'), playbookStarted('b'), ...stepDone('b', 's1')));
    expect(() => retryHosts(crashed, 'R')).toThrow(/b \(unknown\) must be settled first/);
    // Stopped by Ctrl-C between steps: unfinished, not failed; resume continues it, --retry would start it over.
    const stopped = foldRun(journal(header(['b']), hostStarted('b'), playbookStarted('b'), ...stepDone('b', 's1'),
      { type: 'playbook-finished', host: 'b', playbook: 'p', outcome: 'stopped', stoppedBefore: 's2' },
      { type: 'host-finished', host: 'b', outcome: 'stopped', failed: null, outcomes: { p: 'stopped' } }, { type: 'run-finished', outcomes: { b: 'stopped' } }));
    expect(() => retryHosts(stopped, 'R')).toThrow(/b \(stopped\) must be settled first/);
  });
});
