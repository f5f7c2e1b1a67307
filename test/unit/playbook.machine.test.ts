import { describe, it, expect } from 'vitest';
import { createActor, fromPromise, toPromise } from 'xstate';
import { createPlaybookMachine, type RevertTaskCall, type MachineRecord, type PlaybookInput, type PlaybookOutput, type ScriptCall, type ScriptResult, type StepInfo } from '../../machines/playbook.machine.js';

/** A fake host: a key/value store; each step sets one key to a target value. */
function fakeWorld(initial: Record<string, string>, targets: Record<string, string>) {
  const host = { ...initial };
  const calls: string[] = [];
  const records: MachineRecord[] = [];
  const faults: Record<string, (host: Record<string, string>) => void> = {};
  const runScript = fromPromise<ScriptResult, ScriptCall>(async ({ input }) => {
    const { step, phase, checkpoint } = input;
    calls.push(`${step}.${phase}`);
    faults[`${step}.${phase}`]?.(host);
    switch (phase) {
      case 'check':
        return { compliant: host[step] === targets[step], before: host[step] ?? null, after: targets[step], warnings: [] };
      case 'capture':
        return { state: host[step] ?? null, warnings: [] };
      case 'apply':
        host[step] = targets[step]!;
        return { changed: true, warnings: [] };
      case 'verify':
        return { ok: host[step] === targets[step], reason: `${step} is ${host[step]}`, warnings: [] };
      case 'undo':
        if (checkpoint === null) delete host[step];
        else host[step] = checkpoint as string;
        return { changed: true, warnings: [] };
    }
  });
  const record = fromPromise<void, MachineRecord>(async ({ input }) => {
    records.push(input);
    calls.push(`record:${input.type}:${'step' in input ? input.step : ''}`);
    faults[`record:${input.type}:${'step' in input ? input.step : ''}`]?.(host);
  });
  const revertTask = fromPromise<void, RevertTaskCall>(async ({ input }) => {
    calls.push(`revert-task:${input.action}:${input.step}`);
    faults[`${input.step}.revert-task-${input.action}`]?.(host);
  });
  return { host, calls, records, faults, actors: { runScript, record, revertTask } };
}

const step = (id: string, extra: Partial<StepInfo> = {}): StepInfo => ({ id, title: `Set ${id}`, irreversible: false, predictable: true, hasCapture: true, ...extra });
const info = { id: 'test', steps: [step('a'), step('b'), step('c')] };
const targets = { a: 'A', b: 'B', c: 'C' };

async function run(world: ReturnType<typeof fakeWorld>, input: Partial<PlaybookInput> = {}, pb = info): Promise<PlaybookOutput> {
  const machine = createPlaybookMachine(pb).provide({ actors: world.actors });
  const actor = createActor(machine, { input: { playbook: pb, mode: 'apply', ...input } });
  actor.start();
  return toPromise(actor);
}

describe('playbook machine', () => {
  it('applies and verifies every step, recording each checkpoint before its apply', async () => {
    const w = fakeWorld({ a: 'a0', b: 'b0', c: 'c0' }, targets);
    const out = await run(w);
    expect(out.outcome).toBe('succeeded');
    expect(w.host).toEqual(targets);
    expect(out.completed).toEqual(['a', 'b', 'c']);
    for (const s of ['a', 'b', 'c']) {
      expect(w.calls.indexOf(`record:step-checkpoint:${s}`)).toBeLessThan(w.calls.indexOf(`${s}.apply`));
      expect(w.calls.indexOf(`${s}.capture`)).toBeLessThan(w.calls.indexOf(`record:step-checkpoint:${s}`));
    }
    expect(w.records.find((r) => r.type === 'step-verified' && r.step === 'b')).toMatchObject({ left: 'B' });
  });

  it('skips compliant steps and never undoes them', async () => {
    const w = fakeWorld({ a: 'A', b: 'b0', c: 'c0' }, targets);
    w.faults['c.apply'] = () => {
      throw { category: 'script', message: 'boom' };
    };
    const out = await run(w);
    expect(out.skipped).toEqual(['a']);
    expect(out.outcome).toBe('rolledBack');
    expect(w.calls).not.toContain('a.undo');
    expect(w.host).toEqual({ a: 'A', b: 'b0', c: 'c0' });
  });

  describe('when apply fails on step 3', () => {
    it('undoes 3, 2, 1 and ends rolledBack with the host as it was', async () => {
      const w = fakeWorld({ a: 'a0', b: 'b0', c: 'c0' }, targets);
      w.faults['c.apply'] = (host) => {
        host.c = 'half-applied';
        throw { category: 'timeout', message: 'The call did not finish within 1000 ms' };
      };
      const out = await run(w);
      expect(out.outcome).toBe('rolledBack');
      expect(out.failure).toEqual({ step: 'c', phase: 'apply', category: 'timeout', message: 'The call did not finish within 1000 ms' });
      expect(w.calls.filter((c) => c.endsWith('.undo'))).toEqual(['c.undo', 'b.undo', 'a.undo']);
      expect(out.undone).toEqual(['c', 'b', 'a']);
      expect(w.host).toEqual({ a: 'a0', b: 'b0', c: 'c0' });
    });
  });

  describe('when verify finds a mismatch on step 2', () => {
    it('fails with the reason, undoes 2 and 1', async () => {
      const w = fakeWorld({ a: 'a0', b: 'b0' }, targets);
      w.faults['b.verify'] = (host) => (host.b = 'reverted-by-policy');
      const out = await run(w);
      expect(out.failure).toMatchObject({ step: 'b', phase: 'verify', message: 'b is reverted-by-policy' });
      expect(out.undone).toEqual(['b', 'a']);
      expect(w.host).toEqual({ a: 'a0', b: 'b0' }); // c was never attempted; b and a were restored
      expect(w.calls).not.toContain('c.check');
    });
  });

  it('a failing check or capture rolls back only the earlier steps', async () => {
    const w = fakeWorld({}, targets);
    w.faults['b.capture'] = () => {
      throw { category: 'unreachable', message: 'gone' };
    };
    const out = await run(w);
    expect(out.failure).toMatchObject({ step: 'b', phase: 'capture', category: 'unreachable' });
    expect(out.undone).toEqual(['a']);
    expect(w.host).toEqual({});
  });

  it('ends rollbackFailed with exactly what is left when an undo fails', async () => {
    const w = fakeWorld({ a: 'a0', b: 'b0', c: 'c0' }, targets);
    w.faults['c.apply'] = () => {
      throw { category: 'script', message: 'boom' };
    };
    w.faults['b.undo'] = () => {
      throw { category: 'unreachable', message: 'connection lost' };
    };
    const out = await run(w);
    expect(out.outcome).toBe('rollbackFailed');
    expect(out.undoFailure).toEqual({ step: 'b', category: 'unreachable', message: 'connection lost' });
    expect(out.undone).toEqual(['c']);
    expect(out.leftUndone).toEqual(['b', 'a']);
    // Documented and now written (main typed and rendered undo-failed but never journaled it).
    expect(w.records.at(-1)).toEqual({ type: 'undo-failed', step: 'b', category: 'unreachable', message: 'connection lost' });
  });

  it('refuses an irreversible step without consent, and runs it with consent without ever undoing it', async () => {
    const pb = { id: 't', steps: [step('a'), step('b', { irreversible: true, hasCapture: false }), step('c')] };
    const w = fakeWorld({}, targets);
    const refused = await run(w, {}, pb);
    expect(refused.failure).toMatchObject({ step: 'b', phase: 'consent' });
    expect(w.calls).not.toContain('b.apply');
    expect(w.host).toEqual({});

    const w2 = fakeWorld({}, targets);
    w2.faults['c.apply'] = () => {
      throw { category: 'script', message: 'boom' };
    };
    const out = await run(w2, { allowIrreversible: true }, pb);
    expect(out.outcome).toBe('rolledBack');
    expect(w2.calls).not.toContain('b.undo');
    expect(w2.records).toContainEqual({ type: 'undo-skipped', step: 'b', reason: 'irreversible step: nothing to undo' });
    expect(w2.host).toEqual({ b: 'B' });
  });

  it('a check that reports a block (e.g. group policy) fails the playbook without touching the host', async () => {
    const w = fakeWorld({}, targets);
    const blockedWorld = { ...w, actors: { ...w.actors, runScript: fromPromise<ScriptResult, ScriptCall>(async ({ input }) => {
      w.calls.push(`${input.step}.${input.phase}`);
      return { compliant: false, blocked: 'blocked by policy: fDenyTSConnections is set by group policy', warnings: [] };
    }) } };
    const out = await run(blockedWorld);
    expect(out.failure).toMatchObject({ step: 'a', phase: 'blocked', category: 'blocked' });
    expect(w.calls.filter((c) => !c.startsWith('record'))).toEqual(['a.check']);
  });

  it('plan mode only checks, and reports before, after and what is irreversible or unpredictable', async () => {
    const pb = { id: 't', steps: [step('a'), step('b', { irreversible: true, hasCapture: false }), step('c', { predictable: false })] };
    const w = fakeWorld({ a: 'A' }, targets);
    const out = await run(w, { mode: 'plan' }, pb);
    expect(out.outcome).toBe('planned');
    expect(w.calls.filter((c) => !c.startsWith('record'))).toEqual(['a.check', 'b.check', 'c.check']);
    expect(out.plan.map((p) => [p.step, p.action, p.before, p.after, p.irreversible, p.predictable])).toEqual([
      ['a', 'skip', 'A', 'A', false, true],
      ['b', 'apply', null, 'B', true, true],
      ['c', 'apply', null, 'C', false, false],
    ]);
    expect(w.host).toEqual({ a: 'A' });
  });

  describe('rollback of a past run', () => {
    it('undoes the attempted steps newest first from their checkpoints', async () => {
      const w = fakeWorld({ a: 'A', b: 'B' }, targets);
      const out = await run(w, { mode: 'rollback', attempted: ['a', 'b'], checkpoints: { a: 'a0', b: null }, left: { a: 'A', b: 'B' }, checkDrift: true });
      expect(out.outcome).toBe('rolledBack');
      expect(w.host).toEqual({ a: 'a0' });
    });

    it('refuses at a drifted step, leaving it and the steps before it, unless forced', async () => {
      const w = fakeWorld({ a: 'A', b: 'changed-by-someone', c: 'C' }, targets);
      const input = { mode: 'rollback' as const, attempted: ['a', 'b', 'c'], checkpoints: { a: 'a0', b: 'b0', c: 'c0' }, left: { a: 'A', b: 'B', c: 'C' }, checkDrift: true };
      const out = await run(w, input);
      expect(out.outcome).toBe('rollbackRefused');
      expect(out.drift).toEqual({ step: 'b', expected: 'B', actual: 'changed-by-someone' });
      expect(out.undone).toEqual(['c']);
      expect(out.leftUndone).toEqual(['b', 'a']);
      expect(w.host).toEqual({ a: 'A', b: 'changed-by-someone', c: 'c0' });

      const forced = await run(w, { ...input, attempted: ['a', 'b'], force: true });
      expect(forced.outcome).toBe('rolledBack');
      expect(w.host).toEqual({ a: 'a0', b: 'b0', c: 'c0' });
    });
  });

  describe('steps with a revert task', () => {
    const withTasks = { id: 'test', steps: [step('a'), step('b', { revertTask: { expires: false } }), step('c', { revertTask: { expires: true } })] };

    it('arms after the checkpoint and before apply, confirms after verify, then disarms (or keeps an expiring one)', async () => {
      const w = fakeWorld({ a: 'a0', b: 'b0', c: 'c0' }, targets);
      const out = await run(w, {}, withTasks);
      expect(out.outcome).toBe('succeeded');
      const at = (x: string) => w.calls.indexOf(x);
      expect(at('record:step-checkpoint:b')).toBeLessThan(at('revert-task:arm:b'));
      expect(at('revert-task:arm:b')).toBeLessThan(at('b.apply'));
      expect(at('b.verify')).toBeLessThan(at('revert-task:confirm:b'));
      expect(at('revert-task:confirm:b')).toBeLessThan(at('revert-task:disarm:b'));
      expect(at('revert-task:disarm:b')).toBeLessThan(at('record:step-verified:b'));
      expect(w.calls.filter((c) => c.startsWith('revert-task:') && c.endsWith(':c'))).toEqual(['revert-task:arm:c', 'revert-task:confirm:c', 'revert-task:keep:c']);
      expect(w.calls.some((c) => c.startsWith('revert-task:') && c.endsWith(':a'))).toBe(false);
    });

    it('a failed confirmation rolls the step back and disarms its revert task after the undo', async () => {
      const w = fakeWorld({ a: 'a0', b: 'b0', c: 'c0' }, targets);
      w.faults['b.revert-task-confirm'] = () => {
        throw { category: 'lockout', message: 'the RDP port does not answer' };
      };
      const out = await run(w, {}, withTasks);
      expect(out.outcome).toBe('rolledBack');
      expect(out.failure).toMatchObject({ step: 'b', phase: 'confirm', category: 'lockout' });
      expect(w.host).toEqual({ a: 'a0', b: 'b0', c: 'c0' });
      expect(w.calls.indexOf('b.undo')).toBeLessThan(w.calls.indexOf('revert-task:disarm:b'));
      expect(w.calls).not.toContain('c.check');
    });

    it('a revert task that cannot be armed stops the step before its apply', async () => {
      const w = fakeWorld({ a: 'a0', b: 'b0', c: 'c0' }, targets);
      w.faults['b.revert-task-arm'] = () => {
        throw { category: 'unreachable', message: 'gone' };
      };
      const out = await run(w, {}, withTasks);
      expect(out.failure).toMatchObject({ step: 'b', phase: 'arm' });
      expect(w.calls).not.toContain('b.apply');
      expect(out.outcome).toBe('rolledBack');
      expect(w.host).toEqual({ a: 'a0', b: 'b0', c: 'c0' });
    });

    it('a rollback of a past run disarms the revert task of each step after its undo; a step already back at its checkpoint is no drift', async () => {
      const w = fakeWorld({ a: 'A', b: 'B', c: 'c0' }, targets);
      const out = await run(w, { mode: 'rollback', attempted: ['a', 'b', 'c'], checkpoints: { a: 'a0', b: 'b0', c: 'c0' }, left: { a: 'A', b: 'B', c: 'C' }, checkDrift: true }, withTasks);
      expect(out.outcome).toBe('rolledBack');
      expect(w.calls.filter((c) => c.startsWith('revert-task:'))).toEqual(['revert-task:disarm:c', 'revert-task:disarm:b']);
      expect(w.host).toEqual({ a: 'a0', b: 'b0', c: 'c0' });
    });
  });
});

/** Runs the playbook and sends STOP (the first Ctrl-C) from inside the call named `at` (`b.apply`, `record:step-verified:a`). */
async function runStoppedAt(world: ReturnType<typeof fakeWorld>, at: string, input: Partial<PlaybookInput> = {}): Promise<PlaybookOutput> {
  const machine = createPlaybookMachine(info).provide({ actors: world.actors });
  const actor = createActor(machine, { input: { playbook: info, mode: 'apply', ...input } });
  const fault = world.faults[at];
  world.faults[at] = (host) => {
    actor.send({ type: 'STOP' });
    fault?.(host);
  };
  actor.start();
  return toPromise(actor);
}

describe('when STOP (Ctrl-C) arrives', () => {
  const initial = { a: 'a0', b: 'b0', c: 'c0' };

  it('during a check: that step still runs check → capture → apply → verify, then no further step starts', async () => {
    const w = fakeWorld(initial, targets);
    const out = await runStoppedAt(w, 'b.check');
    expect(out.outcome).toBe('stopped');
    expect(out.stoppedBefore).toBe('c');
    expect(out.completed).toEqual(['a', 'b']);
    expect(w.calls.filter((c) => c.startsWith('b.'))).toEqual(['b.check', 'b.capture', 'b.apply', 'b.verify', 'b.capture']);
    expect(w.calls.some((c) => c.startsWith('c.'))).toBe(false);
    // Completed steps stay applied: the admin asked to stop, not to undo.
    expect(w.host).toEqual({ a: 'A', b: 'B', c: 'c0' });
    expect(w.calls.some((c) => c.endsWith('.undo'))).toBe(false);
  });

  it('during an apply: the step is verified and journaled, and the machine stops before the next', async () => {
    const w = fakeWorld(initial, targets);
    const out = await runStoppedAt(w, 'a.apply');
    expect(out).toMatchObject({ outcome: 'stopped', stoppedBefore: 'b', completed: ['a'], attempted: ['a'] });
    expect(w.records.map((r) => `${r.type}:${r.step}`)).toEqual(['step-checked:a', 'step-checkpoint:a', 'step-applied:a', 'step-verified:a']);
    expect(w.host).toEqual({ a: 'A', b: 'b0', c: 'c0' });
  });

  it('between steps: the next step is not even checked', async () => {
    const w = fakeWorld(initial, targets);
    const out = await runStoppedAt(w, 'record:step-verified:a');
    expect(out).toMatchObject({ outcome: 'stopped', stoppedBefore: 'b' });
    expect(w.calls).not.toContain('b.check');
  });

  it('during the last step: nothing is left to stop, the playbook succeeds', async () => {
    const w = fakeWorld(initial, targets);
    const out = await runStoppedAt(w, 'c.apply');
    expect(out.outcome).toBe('succeeded');
    expect(out.stoppedBefore).toBeNull();
  });

  it('during an apply that fails: the step rolls back as it would, with the steps before it', async () => {
    const w = fakeWorld(initial, targets);
    w.faults['b.apply'] = () => {
      throw { category: 'script', message: 'boom' };
    };
    const out = await runStoppedAt(w, 'b.apply');
    expect(out.outcome).toBe('rolledBack');
    expect(out.undone).toEqual(['b', 'a']);
    expect(w.host).toEqual(initial);
  });

  it('during a rollback: the rollback is not interrupted, every attempted step is undone', async () => {
    const w = fakeWorld(initial, targets);
    w.faults['c.apply'] = () => {
      throw { category: 'script', message: 'boom' };
    };
    const out = await runStoppedAt(w, 'b.undo');
    expect(out.outcome).toBe('rolledBack');
    expect(out.undone).toEqual(['c', 'b', 'a']);
    expect(w.host).toEqual(initial);
  });

  it('before the playbook starts (stop in the input): no step runs', async () => {
    const w = fakeWorld(initial, targets);
    const out = await run(w, { stop: true });
    expect(out).toMatchObject({ outcome: 'stopped', stoppedBefore: 'a', completed: [] });
    expect(w.calls).toEqual([]);
  });

  it('resume of a stopped playbook continues from the next step and never runs a completed one again', async () => {
    const w = fakeWorld({ a: 'A', b: 'b0', c: 'c0' }, targets);
    const out = await run(w, { attempted: ['a'], checkpoints: { a: 'a0' }, completed: ['a'] });
    expect(out.outcome).toBe('succeeded');
    expect(out.completed).toEqual(['a', 'b', 'c']);
    expect(w.calls.some((c) => c.startsWith('a.'))).toBe(false);
    // A later failure still undoes the step completed before the stop, from its journaled checkpoint.
    const w2 = fakeWorld({ a: 'A', b: 'b0', c: 'c0' }, targets);
    w2.faults['c.verify'] = (host) => (host.c = 'reverted');
    const failed = await run(w2, { attempted: ['a'], checkpoints: { a: 'a0' }, completed: ['a'] });
    expect(failed.outcome).toBe('rolledBack');
    expect(w2.host).toEqual({ a: 'a0', b: 'b0', c: 'c0' });
  });
});
