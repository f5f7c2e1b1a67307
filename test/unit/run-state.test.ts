import { describe, it, expect } from 'vitest';
import { firedRevertTasks, foldRun, liveRevertTasks } from '../../src/engine/run-state.js';
import { header, hostStarted, journal, playbookStarted, stepDone, stepUndone } from '../helpers/journal.js';

/**
 * The one fold: the states `runs list`, `runs show`, `resume`, `rollback` and the exit codes share. Each case
 * below is a wrong answer main (7ef7099) gave: it read `host-finished` outcomes only, so a rollback left the run
 * "INCOMPLETE (0 hosts)" and hosts "succeeded", and "rolledBack" stood for hosts never reached or never changed.
 */
describe('run state fold', () => {
  const applied = () => [
    hostStarted('a'), playbookStarted('a'), ...stepDone('a', 's1'),
    { type: 'playbook-finished' as const, host: 'a', playbook: 'p', outcome: 'succeeded' as const },
    { type: 'host-finished' as const, host: 'a', outcome: 'succeeded' as const, failed: null, outcomes: { p: 'succeeded' as const } },
  ];

  it('a host stopped by Ctrl-C: stopped, where it stopped, its completed step still applied; a later resume finishes it', () => {
    const stopped = [
      hostStarted('a'), playbookStarted('a'), ...stepDone('a', 's1'),
      { type: 'playbook-finished' as const, host: 'a', playbook: 'p', outcome: 'stopped' as const, stoppedBefore: 's2' },
      { type: 'host-finished' as const, host: 'a', outcome: 'stopped' as const, failed: null, outcomes: { p: 'stopped' as const } },
      { type: 'run-finished' as const, outcomes: { a: 'stopped' as const } },
    ];
    const s = foldRun(journal(header(['a']), ...stopped));
    expect(s.hosts.a!.state).toBe('stopped');
    expect(s.hosts.a!.progress.p).toMatchObject({ outcome: 'stopped', stoppedBefore: 's2', applied: ['s1'], verified: ['s1'] });
    const resumed = foldRun(journal(header(['a']), ...stopped, { type: 'resume-started', hosts: ['a'] }, hostStarted('a'), ...stepDone('a', 's2'),
      { type: 'playbook-finished', host: 'a', playbook: 'p', outcome: 'succeeded' },
      { type: 'host-finished', host: 'a', outcome: 'succeeded', failed: null, outcomes: { p: 'succeeded' } },
      { type: 'run-finished', outcomes: { a: 'succeeded' } }));
    expect(resumed.hosts.a!.state).toBe('succeeded');
    expect(resumed.hosts.a!.progress.p).toMatchObject({ stoppedBefore: null, verified: ['s1', 's2'] });
  });

  it('a finished apply: finished, the changed host succeeded, the host never reached not-reached', () => {
    const s = foldRun(journal(header(['a', 'b']), ...applied(), { type: 'run-finished', outcomes: { a: 'succeeded' } }));
    expect(s.status).toBe('finished');
    expect(s.hosts.a!.state).toBe('succeeded');
    expect(s.hosts.b!.state).toBe('not-reached');
  });

  it('after a rollback the run is rolled back and its hosts rolled-back (main: INCOMPLETE, hosts succeeded)', () => {
    const s = foldRun(journal(header(['a']), ...applied(), { type: 'run-finished', outcomes: { a: 'succeeded' } },
      { type: 'rollback-started', hosts: ['a'], force: false }, ...stepUndone('a', 's1'),
      { type: 'playbook-rolled-back', host: 'a', playbook: 'p', outcome: 'rolledBack' },
      { type: 'host-rolled-back', host: 'a', outcome: 'rolledBack' },
      { type: 'rollback-finished', outcomes: { a: 'rolledBack' } }));
    expect(s.status).toBe('rolled-back');
    expect(s.finished).toBe(true);
    expect(s.hosts.a!.state).toBe('rolled-back');
  });

  it('a rollback of some hosts leaves the run partly rolled back', () => {
    const s = foldRun(journal(header(['a', 'b']), ...applied(), { type: 'run-finished', outcomes: { a: 'succeeded' } },
      { type: 'rollback-started', hosts: ['b'], force: false }, { type: 'host-rolled-back', host: 'b', outcome: 'rolledBack' },
      { type: 'rollback-finished', outcomes: { b: 'rolledBack' } }));
    expect(s.status).toBe('partly-rolled-back');
    expect(s.hosts.a!.state).toBe('succeeded');
    expect(s.hosts.b!.state).toBe('not-reached');
  });

  it('"rolled back" is never said of a host never reached, never changed, or whose only step was irreversible', () => {
    const s = foldRun(journal(header(['never', 'compliant', 'irrev']),
      hostStarted('compliant'), playbookStarted('compliant'),
      { type: 'step-checked', host: 'compliant', playbook: 'p', step: 's1', result: { compliant: true, warnings: [] } },
      { type: 'host-finished', host: 'compliant', outcome: 'succeeded', failed: null, outcomes: { p: 'succeeded' } },
      hostStarted('irrev'), playbookStarted('irrev'), ...stepDone('irrev', 'logoff'),
      { type: 'host-finished', host: 'irrev', outcome: 'succeeded', failed: null, outcomes: { p: 'succeeded' } },
      { type: 'run-finished', outcomes: {} },
      { type: 'rollback-started', hosts: ['never', 'compliant', 'irrev'], force: false },
      { type: 'host-rolled-back', host: 'never', outcome: 'rolledBack' },
      { type: 'host-rolled-back', host: 'compliant', outcome: 'rolledBack' },
      { type: 'undo-skipped', host: 'irrev', playbook: 'p', step: 'logoff', reason: 'irreversible step: nothing to undo' },
      { type: 'host-rolled-back', host: 'irrev', outcome: 'rolledBack' },
      { type: 'rollback-finished', outcomes: {} }));
    expect(s.hosts.never!.state).toBe('not-reached');
    expect(s.hosts.compliant!.state).toBe('unchanged');
    expect(s.hosts.irrev!.state).toBe('irreversible-kept');
  });

  it('a playbook that failed before changing anything is failed, not rolled back (plan and apply)', () => {
    const failedCheck = [hostStarted('a'), playbookStarted('a'),
      { type: 'step-failed' as const, host: 'a', playbook: 'p', step: 's1', phase: 'check' as const, category: 'script', message: 'boom' },
      { type: 'playbook-finished' as const, host: 'a', playbook: 'p', outcome: 'rolledBack' as const },
      { type: 'host-finished' as const, host: 'a', outcome: 'rolledBack' as const, failed: 'p', outcomes: { p: 'rolledBack' as const } },
      { type: 'run-finished' as const, outcomes: { a: 'rolledBack' as const } }];
    expect(foldRun(journal(header(['a'], { mode: 'plan' }), ...failedCheck)).hosts.a!.state).toBe('failed');
    expect(foldRun(journal(header(['a']), ...failedCheck)).hosts.a!.state).toBe('failed');
  });

  it('a playbook that failed after a change and undid it is failed-rolled-back; a failed undo is rollback-incomplete', () => {
    const s = foldRun(journal(header(['a', 'b']),
      hostStarted('a'), playbookStarted('a'), ...stepDone('a', 's1'), ...stepUndone('a', 's1'),
      { type: 'host-finished', host: 'a', outcome: 'rolledBack', failed: 'p', outcomes: { p: 'rolledBack' } },
      hostStarted('b'), playbookStarted('b'), ...stepDone('b', 's1'), { type: 'undo-started', host: 'b', playbook: 'p', step: 's1' },
      { type: 'undo-failed', host: 'b', playbook: 'p', step: 's1', category: 'script', message: 'no' },
      { type: 'host-finished', host: 'b', outcome: 'rollbackFailed', failed: 'p', outcomes: { p: 'rollbackFailed' } },
      { type: 'run-finished', outcomes: {} }));
    expect(s.hosts.a!.state).toBe('failed-rolled-back');
    expect(s.hosts.b!.state).toBe('rollback-incomplete');
  });

  it('an interrupted apply: interrupted, the host mid-way unknown; an interrupted rollback too', () => {
    const s = foldRun(journal(header(['a', 'b']), hostStarted('a'), playbookStarted('a'), { type: 'step-checkpoint', host: 'a', playbook: 'p', step: 's1', state: null }));
    expect(s.status).toBe('interrupted');
    expect(s.hosts.a!.state).toBe('unknown');
    expect(s.hosts.b!.state).toBe('not-reached');
    const r = foldRun(journal(header(['a']), ...applied(), { type: 'run-finished', outcomes: {} }, { type: 'rollback-started', hosts: ['a'], force: false }));
    expect(r.status).toBe('interrupted');
    expect(r.commands.at(-1)!.command).toBe('rollback');
    expect(r.hosts.a!.state).toBe('unknown');
  });

  it('a revert task whose due time has passed is reported as fired, not as still pending (clock injected)', () => {
    const s = foldRun(journal(header(['a']), hostStarted('a'), playbookStarted('a'),
      { type: 'revert-task-arming', host: 'a', playbook: 'p', step: 's1', task: 't', ttlMinutes: 10, expires: true },
      { type: 'revert-task-armed', host: 'a', playbook: 'p', step: 's1', task: 't', dueUtc: '2026-11-25T22:30:00Z', nextRunUtc: null, rdpBefore: { port: 3389, open: true }, remotingBefore: null },
      { type: 'revert-task-kept', host: 'a', playbook: 'p', step: 's1', task: 't', dueUtc: '2026-11-25T22:30:00Z' }));
    const x = s.hosts.a!.progress.p!;
    expect(liveRevertTasks(x, new Date('2026-11-25T22:20:00Z'))).toEqual(['s1']);
    expect(liveRevertTasks(x, new Date('2026-11-25T22:31:00Z'))).toEqual([]);
    expect(firedRevertTasks(x, new Date('2026-11-25T22:31:00Z'))).toEqual(['s1']);
  });
});
