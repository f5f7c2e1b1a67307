import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventsOf, runCli, summaryOf } from '../helpers/cli.js';
import { EVENT_SCHEMA, engineEvent } from '../../src/engine/events.js';
import type { LabHostState } from '../../src/lab/state.js';

describe('plan / apply --from-diagnosis on a mixed lab fleet', () => {
  it('gives each host only the playbooks it needs, leaves every fixable host healthy, and rolls back per host', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'rdpfix-fd-'));
    const lab = path.join(root, 'lab');
    const inv = path.join(lab, 'inventory.yaml');
    // One PowerShell process per command: on CI's two cores a second one only adds start-up work.
    const state = ['--state-dir', path.join(root, 'state'), '--processes', '1'];
    // One host per scenario: lab-001 healthy … lab-012 dns-mismatch, lab-013 nla-policy.
    expect((await runCli(['lab', 'init', lab, '--hosts', '13', '--seed', '8'])).code).toBe(0);
    const hostFile = (h: string) => path.join(lab, 'hosts', `${h}.json`);
    const names = Array.from({ length: 13 }, (_, i) => `lab-${String(i + 1).padStart(3, '0')}`);
    const before = Object.fromEntries(names.map((h) => [h, readFileSync(hostFile(h), 'utf8')]));

    const plan = summaryOf((await runCli(['plan', '-i', inv, '--from-diagnosis', '--json', ...state])).stdout);
    const chosen = Object.fromEntries(plan.diagnosis.map((c: { host: string; playbooks: string[] }) => [c.host, c.playbooks]));
    expect(chosen).toEqual({
      'lab-001': [], 'lab-002': ['restart-termservice'], 'lab-003': ['restart-termservice'], 'lab-004': ['reset-stuck-sessions'],
      'lab-005': ['network-profile-private'], 'lab-006': ['rdp-firewall-rules'], 'lab-007': ['machinekeys-repair'], 'lab-008': ['fix-user-profile'],
      'lab-009': ['rdp-security-layer'], 'lab-010': ['enable-remote-desktop'], 'lab-011': ['session-limits'], 'lab-012': [], 'lab-013': [],
    });
    // The diagnosis names whose profile to repair; the engine runs fix-user-profile with that user on that host only.
    expect(plan.diagnosis.find((c: { host: string }) => c.host === 'lab-008').parameters['fix-user-profile'].user).toMatch(/^S-1-5-21-/);
    expect(plan.diagnosis.find((c: { host: string }) => c.host === 'lab-012').unfixable[0].why).toMatch(/outside the host/);
    expect(plan.diagnosis.find((c: { host: string }) => c.host === 'lab-013').unfixable[0].why).toMatch(/blocked by policy/);
    for (const h of names) expect(readFileSync(hostFile(h), 'utf8')).toBe(before[h]); // a plan changes nothing

    const apply = await runCli(['apply', '-i', inv, '--from-diagnosis', '--yes', '--allow-irreversible', '--json', ...state]);
    // Every host a playbook fixes succeeded; two keep findings no playbook fixes, so the run is not all well: exit 1,
    // and they stay in the recap (with the healthy host).
    expect(apply.code, apply.stderr).toBe(1);
    // 13 hosts in flight share the Ctrl-C signal: one listener each is by design, and must not print Node's leak warning.
    expect(apply.stderr).not.toMatch(/MaxListenersExceededWarning/);
    const run = summaryOf(apply.stdout);
    expect(run.schema).toBe('rdpfix.run-summary/1');
    // Before the summary, one event per line (NDJSON): each one fits the documented schema (docs/json.md).
    const events = eventsOf(apply.stdout);
    for (const e of events) expect(engineEvent.safeParse(e).error?.issues ?? [], JSON.stringify(e)).toEqual([]);
    expect(new Set(events.map((e) => e.schema))).toEqual(new Set([EVENT_SCHEMA]));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('diagnosis-started');
    expect(types.filter((t) => t === 'diagnosis-progress')).toHaveLength(13);
    expect(types.at(-1)).toBe('run-finished');
    for (const t of ['run-started', 'host-started', 'step-phase-started', 'step-phase-ended', 'step-verified', 'host-finished']) expect(types, t).toContain(t);
    // The hung TermService (lab-003) and the session that survives logoff (lab-004) show as waits and warnings.
    expect(events.some((e) => e.type === 'waiting' && e.host === 'lab-003' && e.step === 'restart')).toBe(true);
    expect(events.some((e) => e.type === 'warning' && e.host === 'lab-004' && /rwinsta/.test(String(e.message)))).toBe(true);
    expect(run.hosts.map((h: { outcome: string }) => h.outcome)).toEqual(Array(10).fill('succeeded'));
    const recap = Object.fromEntries(run.recap.map((r: { host: string; state: string }) => [r.host, r.state]));
    expect(recap).toMatchObject({ 'lab-001': 'healthy', 'lab-002': 'succeeded', 'lab-012': 'unfixed', 'lab-013': 'unfixed' });

    const causesNow = async () => {
      const d = JSON.parse((await runCli(['diagnose', '-i', inv, '--json', '--processes', '1'])).stdout);
      return Object.fromEntries(d.hosts.map((h: { host: string; findings: { cause: string }[] }) => [h.host, h.findings.map((f) => f.cause)]));
    };
    const fixed = await causesNow();
    for (const h of names.slice(0, 11)) expect(fixed[h], h).toEqual([]);
    expect(fixed['lab-012']).toEqual(['dns-mismatch']);
    expect(fixed['lab-013']).toEqual(['nla-mismatch']);

    const back = await runCli(['rollback', run.runId, '--json', ...state]);
    expect(back.code, back.stderr).toBe(0);
    // Reversible playbooks: each host exactly as before the run (revert tasks and backups removed too).
    for (const h of ['lab-005', 'lab-006', 'lab-007', 'lab-008', 'lab-009', 'lab-010', 'lab-011']) {
      expect(JSON.parse(readFileSync(hostFile(h), 'utf8')), h).toEqual(JSON.parse(before[h]!));
    }
    // A restart and a log-off cannot be undone: those hosts stay fixed, and the rollback said so.
    const host = (h: string) => JSON.parse(readFileSync(hostFile(h), 'utf8')) as LabHostState;
    for (const h of ['lab-002', 'lab-003']) expect(host(h).services.find((x) => x.Name === 'TermService')!.Status, h).toBe('Running');
    expect(host('lab-004').sessions.filter((x) => x.State === 'Disc' && x.UserName && (x.IdleMinutes ?? 0) >= 1440)).toEqual([]); // logged off: gone for good
    const skipped = summaryOf(back.stdout).hosts.filter((h: { host: string }) => ['lab-002', 'lab-003', 'lab-004'].includes(h.host));
    expect(skipped.map((h: { outcome: string }) => h.outcome)).toEqual(['rolledBack', 'rolledBack', 'rolledBack']);
    const journal = readFileSync(path.join(root, 'state', 'runs', run.runId, 'journal.jsonl'), 'utf8');
    expect(journal.match(/"type":"undo-skipped"[^\n]*"reason":"irreversible step: nothing to undo"/g)?.length).toBe(3);
  }, 420_000);

  it('without -p, plan diagnoses first (the default)', async () => {
    const lab = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-fd-')), 'lab');
    expect((await runCli(['lab', 'init', lab, '--hosts', '2', '--scenarios', 'healthy,rdp-disabled'])).code).toBe(0);
    const r = await runCli(['plan', '-i', path.join(lab, 'inventory.yaml'), '--json', '--state-dir', path.join(lab, '..', 'state')]);
    expect(r.code, r.stderr).toBe(0);
    const plan = summaryOf(r.stdout);
    expect(plan.diagnosis.map((c: { host: string; playbooks: string[] }) => [c.host, c.playbooks])).toEqual([['lab-001', []], ['lab-002', ['enable-remote-desktop']]]);
    expect(plan.hosts.map((h: { host: string }) => h.host)).toEqual(['lab-002']);
  });
});
