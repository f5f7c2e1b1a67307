import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, toPromise } from 'xstate';
import { hostMachine, type HostInput, type HostOutput } from '../../machines/host.machine.js';
import type { PlaybookOutput } from '../../machines/playbook.machine.js';
import type { PlaybookOutcome } from '../../src/journal/records.js';

/** A fake host: each playbook ends with the outcome given; `during` sends STOP from inside that playbook's run or rollback. */
function fakeHost(outcomes: Record<string, PlaybookOutcome>, during?: string) {
  const calls: string[] = [];
  let stop = () => {};
  const output = (outcome: PlaybookOutcome) => ({ outcome }) as PlaybookOutput;
  const actors = {
    runPlaybook: fromPromise<PlaybookOutput, { host: string; playbook: string; mode: HostInput['mode'] }>(async ({ input }) => {
      calls.push(`run:${input.playbook}`);
      if (during === `run:${input.playbook}`) stop();
      return output(outcomes[input.playbook]!);
    }),
    rollbackPlaybook: fromPromise<PlaybookOutput, { host: string; playbook: string }>(async ({ input }) => {
      calls.push(`rollback:${input.playbook}`);
      if (during === `rollback:${input.playbook}`) stop();
      return output('rolledBack');
    }),
  };
  const run = (input: Partial<HostInput> = {}): Promise<HostOutput> => {
    const actor = createActor(hostMachine.provide({ actors }), { input: { host: 'h1', playbooks: ['p1', 'p2', 'p3'], mode: 'apply', ...input } });
    stop = () => actor.send({ type: 'STOP' });
    actor.start();
    return toPromise(actor);
  };
  return { calls, run };
}

describe('host machine, when STOP (Ctrl-C) arrives', () => {
  it('while a playbook runs to its end: no further playbook starts, and nothing is rolled back', async () => {
    const h = fakeHost({ p1: 'succeeded', p2: 'succeeded', p3: 'succeeded' }, 'run:p1');
    const out = await h.run();
    expect(out.outcome).toBe('stopped');
    expect(out.outcomes).toEqual({ p1: 'succeeded' });
    expect(h.calls).toEqual(['run:p1']);
  });

  it('and the playbook stopped between its steps: the host is stopped, its earlier playbooks stay applied', async () => {
    const h = fakeHost({ p1: 'succeeded', p2: 'stopped', p3: 'succeeded' }, 'run:p2');
    const out = await h.run();
    expect(out.outcome).toBe('stopped');
    expect(out.failed).toBeNull();
    expect(out.outcomes).toEqual({ p1: 'succeeded', p2: 'stopped' });
    expect(h.calls).toEqual(['run:p1', 'run:p2']);
  });

  it('while a failure is being rolled back: the rollback of the earlier playbooks is not interrupted', async () => {
    const h = fakeHost({ p1: 'succeeded', p2: 'succeeded', p3: 'rolledBack' }, 'rollback:p2');
    const out = await h.run();
    expect(out.outcome).toBe('rolledBack');
    expect(h.calls).toEqual(['run:p1', 'run:p2', 'run:p3', 'rollback:p2', 'rollback:p1']);
  });

  it('in rollback mode (rdpfix rollback RUN): every playbook is still undone', async () => {
    const h = fakeHost({}, 'rollback:p3');
    const out = await h.run({ mode: 'rollback' });
    expect(out.outcome).toBe('rolledBack');
    expect(h.calls).toEqual(['rollback:p3', 'rollback:p2', 'rollback:p1']);
  });

  it('resume of a stopped host runs the stopped playbook again and the ones after it', async () => {
    const h = fakeHost({ p1: 'succeeded', p2: 'succeeded', p3: 'succeeded' });
    const out = await h.run({ done: { p1: 'succeeded' } });
    expect(out.outcome).toBe('succeeded');
    expect(h.calls).toEqual(['run:p2', 'run:p3']);
  });
});
