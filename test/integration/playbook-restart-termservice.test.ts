import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { makeLabHost, type LabHostFixture } from '../helpers/lab.js';
import { engineSetup, labInventory } from '../helpers/engine.js';
import { startRun, rollbackRun } from '../../src/engine/run.js';
import { projectRoot } from '../../src/paths.js';
import { applyScenario, type Scenario } from '../../src/lab/scenarios.js';
import { createRng } from '../../src/lab/rng.js';
import { readRun } from '../../src/journal/journal.js';
import { diagnoseFleet } from '../../src/diagnose/diagnose.js';
import type { LabHostState } from '../../src/lab/state.js';
import type { LabLocale } from '../../src/lab/locales.js';

// A catalogue of this playbook and those its order hints reach (an unknown id in `order` is a catalogue error):
// the other playbooks of the folder take no part in this test.
const catalogueDir = mkdtempSync(path.join(tmpdir(), 'rdpfix-playbooks-'));
const wanted = ['restart-termservice'];
for (let i = 0; i < wanted.length; i++) {
  const dir = path.join(projectRoot(), 'playbooks', wanted[i]!);
  symlinkSync(dir, path.join(catalogueDir, wanted[i]!));
  const order = (parseYaml(readFileSync(path.join(dir, 'playbook.yaml'), 'utf8')) as { order?: { after?: string[]; before?: string[] } }).order ?? {};
  for (const id of [...(order.after ?? []), ...(order.before ?? [])]) if (!wanted.includes(id)) wanted.push(id);
}
const env = engineSetup([catalogueDir]);
afterAll(() => env.broker.close());

const ID = 'restart-termservice';
const CAUSES = ['termservice-stopped', 'termservice-hung', 'listener-down'];
const NOW = new Date('2026-11-25T12:00:00Z');

// Hosts in other display languages (qwinsta's STATE word is Прослуш / Écouter / Abhör. there): a healthy ja-JP host
// was once diagnosed listener-down and restarted, because the listener was judged by the English word 'Listen'.
const LOCALES: Record<string, LabLocale> = { 'lab-001': 'ja-JP', 'lab-003': 'fr-FR', 'lab-004': 'ru-RU', 'lab-005': 'de-DE' };
const labHost = (name: string, seed: number, scenario?: Scenario, mutate?: (s: LabHostState) => void) =>
  makeLabHost((s) => {
    s.name = name;
    s.locale = LOCALES[name] ?? 'en-US';
    if (scenario) applyScenario(s, scenario, createRng(seed), NOW);
    mutate?.(s);
  }, seed);
const svc = (s: LabHostState, name: string) => s.services.find((x) => x.Name === name)!;
const listeners = (s: LabHostState) => s.sessions.filter((x) => x.State === 'Listen');
/** listener-down: TermService runs, but the rdp-tcp listener is gone. */
const noListener = (s: LabHostState) => { s.sessions = s.sessions.filter((x) => x.State !== 'Listen'); };

const run = (hosts: LabHostFixture[], mode: 'plan' | 'apply', allowIrreversible: boolean, parameters: Record<string, unknown> = {}) =>
  startRun({ mode, inventory: labInventory(hosts), catalogue: env.catalogue, playbookIds: [ID], parameters: { [ID]: parameters },
    concurrency: hosts.length, allowIrreversible, stateDir: env.stateDir, broker: env.broker });
const rollback = (runId: string) => rollbackRun({ stateDir: env.stateDir, runId, catalogue: env.catalogue, broker: env.broker, force: false });

async function causesLeft(hosts: LabHostFixture[]): Promise<Record<string, string[]>> {
  const d = await diagnoseFleet(labInventory(hosts), env.broker, { timeoutMs: 60000 });
  return Object.fromEntries(d.map((h) => [h.host, h.findings.map((f) => f.cause).filter((c) => CAUSES.includes(c))]));
}

describe('playbook restart-termservice on the lab', () => {
  it('plans: before → after per cause, the sessions that drop, the co-hosted services a kill would stop', async () => {
    const hung = labHost('lab-002', 2, 'termservice-hung');
    const cohosted = hung.state.services.filter((x) => x.ProcessId === svc(hung.state, 'TermService').ProcessId && x.Name !== 'TermService').map((x) => x.Name).sort();
    expect(cohosted).toEqual(['NlaSvc']);
    const hosts = [labHost('lab-001', 1), hung, labHost('lab-003', 3, 'termservice-stopped', (s) => { svc(s, 'TermService').StartType = 'Disabled'; }), labHost('lab-004', 4, undefined, noListener)];
    const pre = hosts.map((h) => h.read());
    const plan = Object.fromEntries((await run(hosts, 'plan', false)).hosts.map((h) => [h.host, h.results[ID]!.plan]));
    expect(hosts.map((h) => h.read())).toEqual(pre);

    expect(plan['lab-001']!.map((e) => e.action)).toEqual(['skip', 'skip']);
    expect(plan['lab-001']![1]!.before).toEqual({ TermService: 'Running', UmRdpService: 'Running', listener: 'Listen' });

    const h2 = plan['lab-002']!;
    expect(h2.map((e) => e.action)).toEqual(['skip', 'apply']);
    expect(h2[1]).toMatchObject({ irreversible: true, predictable: false,
      before: { TermService: 'StartPending', UmRdpService: 'Stopped', listener: 'none' }, after: { TermService: 'Running', UmRdpService: 'Running', listener: 'Listen' } });
    const pid = svc(hung.state, 'TermService').ProcessId;
    expect(h2[1]!.warnings).toContain(`TermService is StartPending (hung). Unless it settles within 30 s, its service host process (PID ${pid}) is ended, which also stops: NlaSvc (started again afterwards).`);

    const h3 = plan['lab-003']!;
    expect(h3.map((e) => e.action)).toEqual(['apply', 'apply']);
    expect(h3[0]).toMatchObject({ before: { TermService: 'Disabled', UmRdpService: 'Manual' }, after: { TermService: 'Manual', UmRdpService: 'Manual' }, irreversible: false });
    expect(h3[1]).toMatchObject({ predictable: true, before: { TermService: 'Stopped', UmRdpService: 'Stopped', listener: 'none' } });

    // listener-down: TermService runs, so alice's live RDP connection would drop; she is named.
    const h4 = plan['lab-004']!;
    expect(h4[1]).toMatchObject({ action: 'apply', before: { TermService: 'Running', UmRdpService: 'Running', listener: 'none' } });
    expect(h4[1]!.warnings.find((w) => w.startsWith('Restarting Remote Desktop Services drops every live RDP connection: alice (session 2, RDP-Tcp#0).'))).toBeDefined();
  }, 120_000);

  it('fixes stopped, hung and listener-down hosts (healthy by a second diagnosis) and skips a healthy one', async () => {
    const healthy = labHost('lab-001', 1);
    const stopped = labHost('lab-002', 2, 'termservice-stopped');
    const hung = labHost('lab-003', 3, 'termservice-hung');
    const deaf = labHost('lab-004', 4, undefined, noListener);
    // Listener down, and TermService hangs on its next start (event 7022 during the restart itself).
    const hangsOnStart = labHost('lab-005', 5, undefined, (s) => { noListener(s); svc(s, 'TermService').hang = 'start'; });
    const hosts = [healthy, stopped, hung, deaf, hangsOnStart];
    const pre = Object.fromEntries(hosts.map((h) => [h.state.name, h.read()]));
    expect(await causesLeft(hosts)).toEqual({ 'lab-001': [], 'lab-002': ['termservice-stopped'], 'lab-003': ['termservice-hung'], 'lab-004': ['listener-down'], 'lab-005': ['listener-down'] });

    const r = await run(hosts, 'apply', true, { stopTimeoutSeconds: 5 });
    expect(Object.fromEntries(r.hosts.map((h) => [h.host, h.outcome]))).toEqual({ 'lab-001': 'succeeded', 'lab-002': 'succeeded', 'lab-003': 'succeeded', 'lab-004': 'succeeded', 'lab-005': 'succeeded' });
    expect(r.hosts[0]!.results[ID]!.skipped).toEqual(['start-type', 'restart']);
    expect(healthy.read()).toEqual(pre['lab-001']);
    expect(await causesLeft(hosts)).toEqual({ 'lab-001': [], 'lab-002': [], 'lab-003': [], 'lab-004': [], 'lab-005': [] });

    // The hung hosts (lab-005 hung only once started again): the svchost was ended (TermService and NlaSvc), the
    // hang is gone, NlaSvc runs again.
    const records = readRun(env.stateDir, r.runId).records;
    for (const [fixed, name] of [[hung, 'lab-003'], [hangsOnStart, 'lab-005']] as const) {
      const h = fixed.read();
      const pid = svc(pre[name]!, 'TermService').ProcessId;
      expect(['TermService', 'UmRdpService', 'NlaSvc'].map((n) => [svc(h, n).Status, svc(h, n).hang ?? null])).toEqual([['Running', null], ['Running', null], ['Running', null]]);
      const applied = records.find((x) => x.type === 'step-applied' && x.host === name && x.step === 'restart')!;
      const result = applied.result as { killed: unknown; restartedCoHosted: unknown; warnings: string[] };
      expect(result.killed).toEqual([{ processId: pid, services: ['TermService', 'NlaSvc'] }]);
      expect(result.restartedCoHosted).toEqual({ NlaSvc: 'Running' });
      expect(result.warnings).toContain(`TermService stayed StartPending for 5 s: ended its service host process (PID ${pid}), which also stopped: NlaSvc.`);
      expect(listeners(h)).toEqual([expect.objectContaining({ SessionName: 'rdp-tcp', State: 'Listen' })]);
    }
    const actions = (name: string) => (records.find((x) => x.type === 'step-applied' && x.host === name && x.step === 'restart')!.result as { actions: string[] }).actions;
    const pid5 = svc(pre['lab-005']!, 'TermService').ProcessId;
    expect(actions('lab-005')).toEqual(['Stop-Service TermService -Force -NoWait', 'start TermService', `Stop-Process -Id ${pid5} -Force`, 'start TermService', 'start UmRdpService', 'start NlaSvc']);

    // Everything else on the fixed hosts is as it was: only the services' status (and the hang) and the listener differ.
    for (const [fixed, name] of [[stopped, 'lab-002'], [hung, 'lab-003']] as const) {
      const expected = structuredClone(pre[name]!);
      for (const n of ['TermService', 'UmRdpService']) { svc(expected, n).Status = 'Running'; svc(expected, n).hang = null; }
      expected.sessions.push({ Id: 65536, SessionName: 'rdp-tcp', UserName: '', State: 'Listen', Type: '', Device: '', IdleMinutes: null, LogonTime: null });
      expect(fixed.read()).toEqual(expected);
    }
  }, 120_000);

  it('without --allow-irreversible the restart is refused (consent) and the host is unchanged', async () => {
    const host = labHost('lab-001', 5, 'termservice-stopped');
    const pre = host.read();
    const r = await run([host], 'apply', false);
    expect(r.hosts[0]!.results[ID]!.failure).toMatchObject({ step: 'restart', phase: 'consent', category: 'consent' });
    expect(host.read()).toEqual(pre);
  }, 60_000);

  it('restores a Disabled start type on rollback exactly; the restart itself is skipped as irreversible', async () => {
    const host = labHost('lab-001', 6, 'termservice-stopped', (s) => { svc(s, 'TermService').StartType = 'Disabled'; });
    const pre = host.read();
    const r = await run([host], 'apply', true);
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    const after = host.read();
    expect([svc(after, 'TermService').StartType, svc(after, 'TermService').Status, svc(after, 'UmRdpService').Status]).toEqual(['Manual', 'Running', 'Running']);
    expect(await causesLeft([host])).toEqual({ 'lab-001': [] });

    const back = await rollback(r.runId);
    expect(back.hosts[0]!.outcome).toBe('rolledBack');
    const records = readRun(env.stateDir, r.runId).records;
    expect(records.find((x) => x.type === 'undo-skipped')).toMatchObject({ step: 'restart', reason: 'irreversible step: nothing to undo' });
    const undone = records.find((x) => x.type === 'step-undone' && x.step === 'start-type')!;
    expect(undone.result).toMatchObject({ changed: true, restored: ['TermService=Disabled'] });
    expect((undone.result as { warnings: string[] }).warnings).toContain('TermService is Disabled again, as before the run. It keeps running until it stops and cannot be started after that.');

    // Exactly the pre-run document, except what the irreversible restart changed: both services run and the
    // rdp-tcp listener is back. TermService's start type is Disabled again.
    const expected = structuredClone(pre);
    svc(expected, 'TermService').Status = 'Running';
    svc(expected, 'UmRdpService').Status = 'Running';
    expected.sessions.push({ Id: 65536, SessionName: 'rdp-tcp', UserName: '', State: 'Listen', Type: '', Device: '', IdleMinutes: null, LogonTime: null });
    expect(host.read()).toEqual(expected);
  }, 60_000);

  it('force restarts a healthy host (alice drops to disconnected); bad parameters are rejected before any host is touched', async () => {
    const host = labHost('lab-001', 7);
    const pre = host.read();
    await expect(run([host], 'apply', true, { stopTimeoutSeconds: 4 })).rejects.toThrow(/restart-termservice\.stopTimeoutSeconds must be at least 5/);
    await expect(run([host], 'apply', true, { stopTimeoutSeconds: 301 })).rejects.toThrow(/restart-termservice\.stopTimeoutSeconds must be at most 300/);
    await expect(run([host], 'apply', true, { force: 'yes' })).rejects.toThrow(/restart-termservice\.force must be true or false/);
    expect(host.read()).toEqual(pre);
    const r = await run([host], 'apply', true, { force: true });
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    const s = host.read();
    expect(s.sessions.find((x) => x.UserName === 'alice')).toMatchObject({ State: 'Disc', SessionName: '' });
    expect(listeners(s)).toEqual(listeners(pre));
    expect(s.services).toEqual(pre.services);
  }, 60_000);
});
