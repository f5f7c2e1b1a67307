import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeLabHost } from '../helpers/lab.js';
import { engineSetup, labInventory } from '../helpers/engine.js';
import { startRun, rollbackRun } from '../../src/engine/run.js';
import { readRun } from '../../src/journal/journal.js';
import { advanceLab } from '../../src/lab/clock.js';
import { labHostNow, type LabHostState } from '../../src/lab/state.js';

const env = engineSetup();
afterAll(() => env.broker.close());

const records = (runId: string) => readRun(env.stateDir, runId).records as Record<string, unknown>[];
const taskTrail = (runId: string) => records(runId).filter((r) => String(r.type).startsWith('revert-task-')).map((r) => r.type);
const rule = (s: LabHostState, name: string) => s.firewall.rules.find((r) => r.Name === name)!;
const taskFiles = (s: LabHostState) => Object.keys(s.files).filter((p) => /\\ProgramData\\rdpfix/i.test(p));

const run = (host: ReturnType<typeof makeLabHost>, playbook: string, parameters: Record<string, unknown> = {}) =>
  startRun({ mode: 'apply', inventory: labInventory([host]), catalogue: env.catalogue, playbookIds: [playbook], parameters: { [playbook]: parameters }, concurrency: 1, allowIrreversible: false, stateDir: env.stateDir, broker: env.broker });

describe('revert task (commit-confirmed changes) on the lab', () => {
  it('arms a SYSTEM task before the change, confirms over a new session and an RDP probe, then disarms it', async () => {
    const host = makeLabHost((s) => (s.name = 'lab-101'), 11);
    const pre = host.read();
    const r = await run(host, 'revert-task-rule');
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    expect(taskTrail(r.runId)).toEqual(['revert-task-arming', 'revert-task-armed', 'revert-task-confirmed', 'revert-task-disarming', 'revert-task-disarmed']);
    const all = records(r.runId);
    const armedAt = all.findIndex((x) => x.type === 'revert-task-armed');
    expect(armedAt).toBeLessThan(all.findIndex((x) => x.type === 'step-applied'));
    expect(all.find((x) => x.type === 'revert-task-confirmed')).toMatchObject({ ok: true, session: true });
    // The task was really registered as the reference says (SYSTEM, once at the TTL and at startup): the audit log.
    const audit = readFileSync(host.statePath.replace(/\.json$/, '.audit.jsonl'), 'utf8');
    expect(audit).toMatch(/"command":"Register-ScheduledTask".*"taskPath":"\\\\rdpfix\\\\"/);
    const after = host.read();
    expect(rule(after, 'RemoteDesktop-UserMode-In-UDP').Enabled).toBe('False');
    expect(after.scheduledTasks).toEqual(pre.scheduledTasks);
    expect(taskFiles(after)).toEqual([]);
    const back = await rollbackRun({ stateDir: env.stateDir, runId: r.runId, catalogue: env.catalogue, broker: env.broker, force: false });
    expect(back.hosts[0]!.outcome).toBe('rolledBack');
    expect(host.read()).toEqual(pre);
  });

  it('refuses a %ProgramData%\\rdpfix\\revert an ordinary user made (SYSTEM would run what is in it): no task, no change', async () => {
    const user = 'S-1-5-21-1111111111-2222222222-3333333333-1001';
    const host = makeLabHost((s) => {
      s.name = 'lab-104';
      s.files['C:\\ProgramData\\rdpfix'] = { type: 'directory', sddl: 'O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)' };
      s.files['C:\\ProgramData\\rdpfix\\revert'] = { type: 'directory', sddl: `O:${user}G:${user}D:PAI(A;OICI;FA;;;${user})(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)` };
    }, 14);
    const pre = host.read();
    const r = await run(host, 'revert-task-rule');
    expect(r.hosts[0]!.outcome).not.toBe('succeeded');
    expect(r.hosts[0]!.results['revert-task-rule']!.failure!.message).toMatch(/Could not arm the revert task, so the change was not made: .*C:\\ProgramData\\rdpfix\\revert exists and is not rdpfix's own: its owner is S-1-5-21-/);
    expect(records(r.runId).some((x) => x.type === 'step-applied')).toBe(false);
    expect(host.read().firewall).toEqual(pre.firewall);
    expect(host.read().scheduledTasks).toEqual(pre.scheduledTasks);
    expect(host.read().files).toEqual(pre.files);
  });

  it('a host where the task cannot run (powershell.exe blocked by policy) fails the arm self-test: no task, no change', async () => {
    const host = makeLabHost((s) => {
      s.name = 'lab-106';
      s.blockedExecutables = ['powershell.exe'];
    }, 16);
    const pre = host.read();
    const r = await run(host, 'revert-task-rule');
    expect(r.hosts[0]!.outcome).not.toBe('succeeded');
    expect(r.hosts[0]!.results['revert-task-rule']!.failure!.message).toMatch(/Could not arm the revert task, so the change was not made: .*could not run on this host \(self-test: the task ran but did not answer \(last result 0x800704EC\)\)/);
    expect(records(r.runId).some((x) => x.type === 'step-applied')).toBe(false);
    expect(host.read().firewall).toEqual(pre.firewall);
    expect(host.read().scheduledTasks).toEqual(pre.scheduledTasks);
    expect(host.read().files).toEqual(pre.files);
  });

  it('a change that cuts the remoting port is not confirmed: the step is rolled back and the task removed', async () => {
    const host = makeLabHost((s) => (s.name = 'lab-102'), 12);
    const pre = host.read();
    const r = await run(host, 'revert-task-rule', { rule: 'WINRM-HTTP-In-TCP-NoScope' });
    const h = r.hosts[0]!;
    expect(h.outcome).toBe('rolledBack');
    const failure = h.results['revert-task-rule']!.failure!;
    expect(failure).toMatchObject({ phase: 'confirm', category: 'lockout' });
    expect(failure.message).toMatch(/remoting port 5985 does not answer/);
    expect(taskTrail(r.runId)).toEqual(['revert-task-arming', 'revert-task-armed', 'revert-task-confirmed', 'revert-task-disarming', 'revert-task-disarmed']);
    expect(host.read()).toEqual(pre);
  });

  it('a change that leaves the RDP port open but breaks its TLS negotiation is not confirmed: rolled back, task removed', async () => {
    const host = makeLabHost((s) => (s.name = 'lab-105'), 15);
    const pre = host.read();
    // SecurityLayer 0: TCP 3389 still answers, but every TLS/CredSSP offer is refused (SSL_NOT_ALLOWED_BY_SERVER).
    const r = await run(host, 'revert-task-layer', { layer: 0 });
    const h = r.hosts[0]!;
    expect(h.outcome).toBe('rolledBack');
    const failure = h.results['revert-task-layer']!.failure!;
    expect(failure).toMatchObject({ phase: 'confirm', category: 'lockout' });
    expect(failure.message).toMatch(/RDP listener on port 3389 no longer negotiates as it did before the change/);
    const confirmed = records(r.runId).find((x) => x.type === 'revert-task-confirmed')!;
    expect(confirmed).toMatchObject({ ok: false, session: true });
    expect(confirmed.ports).toContainEqual(expect.objectContaining({ port: 3389, open: true }));
    expect(taskTrail(r.runId)).toEqual(['revert-task-arming', 'revert-task-armed', 'revert-task-confirmed', 'revert-task-disarming', 'revert-task-disarmed']);
    expect(host.read()).toEqual(pre);
  });

  it('a temporary change keeps its revert task: the host restores the checkpoint by itself when the TTL has passed, even where a group policy sets AllSigned', async () => {
    // "Turn on Script Execution: Allow only signed scripts": -ExecutionPolicy Bypass -File would never run the undo.
    const host = makeLabHost((s) => {
      s.name = 'lab-103';
      s.registry['HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell'] = { EnableScripts: { kind: 'DWord', data: 1 }, ExecutionPolicy: { kind: 'String', data: 'AllSigned' } };
    }, 13);
    const pre = host.read();
    const r = await run(host, 'temporary-value', { ttlMinutes: 30 });
    expect(r.hosts[0]!.results['temporary-value']!.failure).toBeNull();
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    expect(taskTrail(r.runId)).toEqual(['revert-task-arming', 'revert-task-armed', 'revert-task-confirmed', 'revert-task-kept']);
    const applied = host.read();
    expect(applied.registry['HKEY_LOCAL_MACHINE\\SOFTWARE\\RdpfixTest']).toEqual({ Temp: { kind: 'DWord', data: 1 } });
    const task = applied.scheduledTasks.find((t) => t.TaskPath === '\\rdpfix\\')!;
    expect(task).toMatchObject({ State: 'Ready', Principal: { UserId: 'SYSTEM', LogonType: 'ServiceAccount', RunLevel: 'Highest' } });
    // Registered by SID (the name is localized on some systems), launched as a command, not a script file; the
    // self-test at arm time ran it once and it answered (nothing of it is left).
    const audit = readFileSync(host.statePath.replace(/\.json$/, '.audit.jsonl'), 'utf8');
    expect(audit).toMatch(/"command":"Register-ScheduledTask".*"principal":"S-1-5-18"/);
    expect(audit).toMatch(/"command":"Start-ScheduledTask".*"result":0/);
    expect(task.Actions[0]!.Arguments).toMatch(/^-NoProfile -NonInteractive -EncodedCommand [A-Za-z0-9+/=]+$/);
    expect(task.Actions[0]!.Arguments!.length).toBeLessThanOrEqual(480);
    expect(taskFiles(applied).filter((p) => /selftest/i.test(p))).toEqual([]);
    expect(task.Triggers.map((t) => t.Type)).toEqual(['Once', 'AtStartup']);
    expect(taskFiles(applied).length).toBeGreaterThan(0);

    // Not yet due: nothing happens. Past the TTL (no controller involved): the task runs the step's undo.
    const inventory = labInventory([host]);
    const hostTimeBefore = labHostNow(pre, host.statePath).getTime();
    const early = (await advanceLab(env.broker, inventory.hosts, 20 * 60_000))[0]!;
    expect(early.fired).toEqual([]);
    // The host's clock moved on by 20 minutes (from its seeded time, not the controller's).
    expect(Date.parse(early.now) - hostTimeBefore).toBeGreaterThanOrEqual(20 * 60_000);
    expect(Date.parse(early.now) - hostTimeBefore).toBeLessThan(25 * 60_000);
    const fired = (await advanceLab(env.broker, inventory.hosts, 11 * 60_000))[0]!.fired;
    expect(fired).toEqual([{ task: expect.stringMatching(/^\\rdpfix\\rdpfix-.*temporary-value\.set-temp$/), result: 0, unregistered: true }]);
    const reverted = host.read();
    expect(reverted.registry['HKEY_LOCAL_MACHINE\\SOFTWARE\\RdpfixTest']).toBeUndefined();
    expect(reverted.scheduledTasks).toEqual(pre.scheduledTasks);

    // Rolling the run back later finds the step already at its checkpoint (no drift), and clears the task's folder.
    const back = await rollbackRun({ stateDir: env.stateDir, runId: r.runId, catalogue: env.catalogue, broker: env.broker, force: false });
    expect(back.hosts[0]!.outcome).toBe('rolledBack');
    expect(records(r.runId).find((x) => x.type === 'revert-task-disarmed')).toMatchObject({ wasArmed: false, ran: { ok: true, changed: true } });
    expect(host.read()).toEqual(pre);
  });

  it("rolls back a run whose task an older rdpfix armed (its folder under rdpfix\\guard, the old name): task and folder are removed", async () => {
    const host = makeLabHost((s) => (s.name = 'lab-105'), 15);
    const pre = host.read();
    const r = await run(host, 'temporary-value', { ttlMinutes: 30 });
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    // As an older version left it: the same task, its files under %ProgramData%\rdpfix\guard\<task>.
    const applied = host.read();
    const legacy = (p: string) => p.replace(/^C:\\ProgramData\\rdpfix\\revert/i, 'C:\\ProgramData\\rdpfix\\guard');
    applied.files = Object.fromEntries(Object.entries(applied.files).map(([p, f]) => [legacy(p), f]));
    writeFileSync(host.statePath, JSON.stringify(applied, null, 2));
    expect(taskFiles(host.read()).some((p) => /\\rdpfix\\guard\\rdpfix-/i.test(p))).toBe(true);
    const back = await rollbackRun({ stateDir: env.stateDir, runId: r.runId, catalogue: env.catalogue, broker: env.broker, force: false });
    expect(back.hosts[0]!.outcome).toBe('rolledBack');
    expect(records(r.runId).find((x) => x.type === 'revert-task-disarmed')).toMatchObject({ wasArmed: true });
    expect(host.read()).toEqual(pre);
  });
});
