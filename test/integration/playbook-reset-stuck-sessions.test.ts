import { describe, it, expect, afterAll } from 'vitest';
import path from 'node:path';
import { makeLabHost, useLabLocale } from '../helpers/lab.js';
import { engineSetup, labInventory } from '../helpers/engine.js';
import { startRun, rollbackRun } from '../../src/engine/run.js';
import { projectRoot } from '../../src/paths.js';
import { applyScenario } from '../../src/lab/scenarios.js';
import { createRng } from '../../src/lab/rng.js';
import { readRun } from '../../src/journal/journal.js';
import { existsSync, readFileSync } from 'node:fs';

// Every playbook test runs on a non-English host (issue 11): tool text and account names in de-DE.
useLabLocale('de-DE');

const env = engineSetup([path.join(projectRoot(), 'playbooks')]);
afterAll(() => env.broker.close());

// The stuck-session scenario: bob disconnected for days (his session ignores logoff), carol disconnected for hours.
const stuckHost = () => makeLabHost((s) => applyScenario(s, 'stuck-session', createRng(3), new Date('2026-11-25T12:00:00Z')));
const users = (h: ReturnType<typeof stuckHost>) => h.read().sessions.filter((x) => x.UserName).map((x) => x.UserName).sort();
const audit = (h: ReturnType<typeof stuckHost>) => {
  const p = h.statePath.replace(/\.json$/, '.audit.jsonl');
  return existsSync(p) ? readFileSync(p, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { command: string; detail: Record<string, unknown> }) : [];
};

const run = (host: ReturnType<typeof stuckHost>, mode: 'plan' | 'apply', allowIrreversible: boolean, parameters: Record<string, unknown> = {}) =>
  startRun({ mode, inventory: labInventory([host]), catalogue: env.catalogue, playbookIds: ['reset-stuck-sessions'], parameters: { 'reset-stuck-sessions': parameters }, concurrency: 1, allowIrreversible, stateDir: env.stateDir, broker: env.broker });

describe('playbook reset-stuck-sessions on the lab (an irreversible step)', () => {
  it('plan names the sessions it would log off and says the step is irreversible', async () => {
    const p = (await run(stuckHost(), 'plan', false)).hosts[0]!.results['reset-stuck-sessions']!.plan[0]!;
    expect(p).toMatchObject({ action: 'apply', irreversible: true });
    expect((p.before as { sessions: { user: string }[] }).sessions.map((x) => x.user)).toEqual(['bob']);
  });

  it('without --allow-irreversible it changes nothing', async () => {
    const host = stuckHost();
    const pre = host.read();
    const r = await run(host, 'apply', false);
    expect(r.hosts[0]!.results['reset-stuck-sessions']!.failure).toMatchObject({ phase: 'consent' });
    expect(host.read()).toEqual(pre);
  });

  it('with consent it logs off (resetting the hung session), and a later rollback skips it with a note', async () => {
    const host = stuckHost();
    expect(users(host)).toEqual(['alice', 'bob', 'carol']);
    const r = await run(host, 'apply', true, { logoffWaitSeconds: 4 });
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    expect(users(host)).toEqual(['alice', 'carol']); // carol: disconnected for less than idleMinutes (1440)
    // bob ignores logoff: reset once the bounded wait is over.
    expect(audit(host).map((a) => [a.command, a.detail.session])).toEqual([['logoff', 3], ['rwinsta', 3]]);
    const back = await rollbackRun({ stateDir: env.stateDir, runId: r.runId, catalogue: env.catalogue, broker: env.broker, force: false });
    expect(back.hosts[0]!.outcome).toBe('rolledBack');
    expect(readRun(env.stateDir, r.runId).records.some((x) => x.type === 'undo-skipped' && x.step === 'log-off-disconnected')).toBe(true);
    expect(users(host)).toEqual(['alice', 'carol']);
  });

  it('named users and a shorter idle limit take carol too', async () => {
    const host = stuckHost();
    const r = await run(host, 'apply', true, { users: ['carol'], idleMinutes: 60 });
    expect(r.hosts[0]!.results['reset-stuck-sessions']!.failure).toBeNull();
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    expect(users(host)).toEqual(['alice', 'bob']);
  });

  it('waits (on the host clock) for a logged-off session that lingers instead of resetting it', async () => {
    // carol's session stays listed for 3 s of host time after logoff, as a real logoff does while it runs.
    const host = stuckHost();
    const r = await run(host, 'apply', true, { users: ['carol'], idleMinutes: 60 });
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    expect(users(host)).toEqual(['alice', 'bob']);
    expect(audit(host).map((a) => a.command)).toEqual(['logoff']);
  });

  it('finds sessions through the WTS API, not quser text: a user name with a space is still a stuck session', async () => {
    // quser prints 'jean dupont' in its USERNAME column; a text reader takes 'dupont' for the SESSIONNAME and skips
    // the session as a live one. The WTS API names the user whole.
    const host = makeLabHost((s) => {
      applyScenario(s, 'stuck-session', createRng(3), new Date('2026-11-25T12:00:00Z'));
      s.locale = 'fr-FR';
      s.sessions = s.sessions.filter((x) => x.UserName !== 'bob');
      s.sessions.push({ Id: 5, SessionName: '', UserName: 'jean dupont', State: 'Disc', Type: '', Device: '', IdleMinutes: 3 * 1440, LogonTime: '2026-11-21T08:00:00Z', logoffLingerSeconds: 0 });
    });
    const r = await run(host, 'apply', true);
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    expect(users(host)).toEqual(['alice', 'carol']);
    expect(audit(host).map((a) => [a.command, a.detail.session])).toEqual([['logoff', 5]]);
  });

  it('where TermService does not run the sessions cannot be read: the check fails and nothing changes', async () => {
    const host = makeLabHost((s) => {
      applyScenario(s, 'stuck-session', createRng(3), new Date('2026-11-25T12:00:00Z'));
      for (const svc of s.services) if (svc.Name === 'TermService' || svc.Name === 'UmRdpService') svc.Status = 'Stopped';
    });
    const pre = host.read();
    const r = await run(host, 'apply', true);
    expect(r.hosts[0]!.outcome).not.toBe('succeeded');
    expect(r.hosts[0]!.results['reset-stuck-sessions']!.failure!.message).toMatch(/cannot list the sessions through the WTS API.*1722.*TermService/);
    expect(host.read()).toEqual(pre);
    expect(audit(host)).toEqual([]);
  });
});
