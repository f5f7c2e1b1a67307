import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeLabHost, type LabHostFixture, useLabLocale } from '../helpers/lab.js';
import { engineSetup, labInventory } from '../helpers/engine.js';
import { startRun, rollbackRun } from '../../src/engine/run.js';
import { diagnoseFleet } from '../../src/diagnose/diagnose.js';
import { readRun } from '../../src/journal/journal.js';
import { projectRoot } from '../../src/paths.js';
import { applyScenario } from '../../src/lab/scenarios.js';
import { createRng } from '../../src/lab/rng.js';
import { PROFILE_LIST_KEY } from '../../src/lab/base-host.js';
import type { LabHostState } from '../../src/lab/state.js';

// Every playbook test runs on a non-English host (issue 11): tool text and account names in fr-FR.
useLabLocale('fr-FR');

// This playbook and those its order hints reach, from playbooks/ (a catalogue of its own: the other built-in
// playbooks are not needed here).
const catalogueDir = mkdtempSync(path.join(tmpdir(), 'rdpfix-playbooks-'));
for (const id of ['fix-user-profile', 'reset-stuck-sessions', 'session-limits']) symlinkSync(path.join(projectRoot(), 'playbooks', id), path.join(catalogueDir, id), 'dir');
const env = engineSetup([catalogueDir]);
afterAll(() => env.broker.close());

const NOW = new Date('2026-11-25T12:00:00Z');
const BACKUP = 'C:\\ProgramData\\rdpfix\\backup';
const PROTECTED = 'O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)';
/** %ProgramData%\rdpfix made by carol (an ordinary user may create folders there), readable by Administrators. */
const userMadeRdpfixFolder = (s: LabHostState) => {
  const sid = Object.keys(s.registry).find((k) => /-1003(\.bak)?$/.test(k))!.split('\\').pop()!.replace(/\.bak$/, '');
  s.files['C:\\ProgramData\\rdpfix'] = { type: 'directory', sddl: `O:${sid}G:${sid}D:AI(A;OICI;FA;;;${sid})(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)` };
};

/** The profile-corrupt scenario (carol: <SID> → C:\Users\TEMP, the real profile backed up as <SID>.bak). */
const corruptHost = (extra?: (s: LabHostState) => void, seed = 5) =>
  makeLabHost((s) => {
    applyScenario(s, 'profile-corrupt', createRng(seed), NOW);
    extra?.(s);
  }, seed);
const carolSid = (h: LabHostFixture) => Object.keys(h.state.registry).find((k) => k.endsWith('-1003') || k.endsWith('-1003.bak'))!.split('\\').pop()!.replace(/\.bak$/, '');
const profileKey = (h: LabHostFixture, leaf: string) => h.read().registry[`${PROFILE_LIST_KEY}\\${leaf}`];
const auditPath = (h: LabHostFixture) => h.statePath.replace(/\.json$/, '.audit.jsonl');

const run = (hosts: LabHostFixture[], mode: 'plan' | 'apply', parameters: Record<string, unknown> = { user: 'carol' }) =>
  startRun({ mode, inventory: labInventory(hosts), catalogue: env.catalogue, playbookIds: ['fix-user-profile'], parameters: { 'fix-user-profile': parameters }, concurrency: 4, allowIrreversible: false, stateDir: env.stateDir, broker: env.broker });
/** Runs a script on the host through the engine's own (warm) broker. */
const onHost = async (h: LabHostFixture, script: string, args: unknown[] = []) => {
  const e = await env.broker.invoke({ kind: 'lab', host: h.state.name, statePath: h.statePath }, script, args, { timeoutMs: 60000 });
  if (!e.ok) throw new Error(e.error.message);
  return e.data.output;
};
const rollback = (runId: string, force = false) => rollbackRun({ stateDir: env.stateDir, runId, catalogue: env.catalogue, broker: env.broker, force });

describe('playbook fix-user-profile on the lab', () => {
  it('plans the KB947215 repair: TEMP key out, .bak in, State/RefCount 0; export first', async () => {
    const host = corruptHost();
    const sid = carolSid(host);
    const p = (await run([host], 'plan')).hosts[0]!.results['fix-user-profile']!.plan;
    expect(p.map((e) => [e.step, e.action])).toEqual([['export-profile-keys', 'apply'], ['restore-profile-key', 'apply']]);
    expect(p[0]!.after).toMatchObject({ sid, files: [expect.stringMatching(new RegExp(`^C:\\\\ProgramData\\\\rdpfix\\\\backup\\\\[0-9a-f-]+\\\\${sid}\\.reg$`)), expect.stringMatching(/\.bak\.reg$/)] });
    expect(p[1]!.before).toEqual({
      sid, case: 'both',
      profileKey: { key: sid, profileImagePath: 'C:\\Users\\TEMP', state: 0x800, refCount: 0 },
      backupKey: { key: `${sid}.bak`, profileImagePath: 'C:\\Users\\carol', state: 0x8000, refCount: 1 },
    });
    expect(p[1]!.after).toEqual({ sid, case: 'healthy', profileKey: { key: sid, profileImagePath: 'C:\\Users\\carol', state: 0, refCount: 0 }, backupKey: null });
  });

  it('repairs carol, the host is healthy for the cause on a second diagnosis, and rollback restores the exact prior state', async () => {
    const host = corruptHost();
    const sid = carolSid(host);
    const pre = host.read();
    const bak = pre.registry[`${PROFILE_LIST_KEY}\\${sid}.bak`]!;
    const r = await run([host], 'apply');
    expect(r.hosts[0]!.results['fix-user-profile']!.failure).toBeNull();
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    // The checkpoint holds both keys exactly: every value's name, kind and data, sorted by name.
    const tree = (vals: Record<string, { kind: string; data: unknown }>) => ({
      values: Object.entries(vals).sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)).map(([name, v]) => ({ name, kind: v.kind, data: v.data })),
      subkeys: [],
    });
    const records = readRun(env.stateDir, r.runId).records as { type: string; step?: string; state?: unknown }[];
    expect(records.find((x) => x.type === 'step-checkpoint' && x.step === 'restore-profile-key')!.state).toEqual({
      sid, user: 'carol', names: ['carol'],
      profileKey: tree(pre.registry[`${PROFILE_LIST_KEY}\\${sid}`]!), backupKey: tree(bak),
    });
    // The .bak values, State and RefCount 0; no .bak key left.
    expect(profileKey(host, sid)).toEqual({ ...bak, State: { kind: 'DWord', data: 0 }, RefCount: { kind: 'DWord', data: 0 } });
    expect(profileKey(host, `${sid}.bak`)).toBeUndefined();
    // Both keys exported first, as regedit files.
    const files = host.read().files;
    const exported = Object.keys(files).filter((f) => f.startsWith(`${BACKUP}\\${r.runId}\\`)).sort();
    expect(exported).toEqual([`${BACKUP}\\${r.runId}\\${sid}.bak.reg`, `${BACKUP}\\${r.runId}\\${sid}.reg`]);
    // The backup folders admit only SYSTEM and Administrators (owner Administrators, not inherited): they hold profile keys.
    for (const dir of ['C:\\ProgramData\\rdpfix', BACKUP, `${BACKUP}\\${r.runId}`]) expect(files[dir]!.sddl).toBe(PROTECTED);
    const text = Buffer.from(files[exported[1]!]!.content!, 'base64').subarray(2).toString('utf16le');
    expect(text).toContain(`[${PROFILE_LIST_KEY}\\${sid}]`);
    expect(text).toContain('"State"=dword:00000800');
    // Diagnosis again: the 1511/1515 events stay in the log, but without a .bak key or a TEMP path there is no finding.
    const [d] = await diagnoseFleet(labInventory([host]), env.broker, { timeoutMs: 60000 });
    expect(d!.findings.map((f) => f.cause)).not.toContain('profile-corrupt');
    expect(host.read().events.map((e) => e.Id)).toEqual(expect.arrayContaining([1511, 1515]));

    const back = await rollback(r.runId);
    expect(back.hosts[0]!.outcome).toBe('rolledBack');
    expect(host.read()).toEqual(pre);
  });

  it('repairs the case with only <SID>.bak (rename, State/RefCount 0) and rolls it back exactly', async () => {
    const host = corruptHost((s) => {
      const sid = Object.keys(s.registry).find((k) => k.endsWith('-1003.bak'))!.replace(/\.bak$/, '');
      delete s.registry[sid];
    });
    const sid = carolSid(host);
    const pre = host.read();
    expect(profileKey(host, sid)).toBeUndefined();
    const plan = (await run([host], 'plan')).hosts[0]!.results['fix-user-profile']!.plan;
    expect(plan[1]!.before).toMatchObject({ case: 'bak-only', profileKey: null });
    const r = await run([host], 'apply');
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    expect(profileKey(host, sid)).toMatchObject({ ProfileImagePath: { kind: 'ExpandString', data: 'C:\\Users\\carol' }, State: { kind: 'DWord', data: 0 }, RefCount: { kind: 'DWord', data: 0 } });
    expect(profileKey(host, `${sid}.bak`)).toBeUndefined();
    expect(Object.keys(host.read().files).filter((f) => f.startsWith(`${BACKUP}\\${r.runId}\\`))).toEqual([`${BACKUP}\\${r.runId}\\${sid}.bak.reg`]);
    expect((await rollback(r.runId)).hosts[0]!.outcome).toBe('rolledBack');
    expect(host.read()).toEqual(pre);
  });

  it('resolves the user given as DOMAIN\\name or as the SID the same way', async () => {
    const host = corruptHost();
    const sid = carolSid(host);
    for (const user of ['LAB-001\\carol', sid]) {
      const p = (await run([host], 'plan', { user })).hosts[0]!.results['fix-user-profile']!.plan;
      expect(p.map((e) => e.action)).toEqual(['apply', 'apply']);
      expect(p[1]!.before).toMatchObject({ sid, case: 'both' });
    }
  });

  it('rollback restores both keys from the checkpoint alone (export gone, forced past the drift); undo twice changes nothing', async () => {
    const host = corruptHost();
    const pre = host.read();
    const r = await run([host], 'apply');
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    // Someone deletes the backup folder: the export step's result drifted, so a plain rollback refuses it...
    await onHost(host, `param($p) Remove-Item -LiteralPath $p -Recurse -Force`, [`${BACKUP}\\${r.runId}`]);
    const refused = await rollback(r.runId);
    expect(refused.hosts[0]!.outcome).toBe('rollbackRefused');
    // ...the newer step (the keys) was already restored from its JSON checkpoint, without any .reg file.
    const sid = carolSid(host);
    expect(profileKey(host, sid)).toEqual(pre.registry[`${PROFILE_LIST_KEY}\\${sid}`]);
    expect(profileKey(host, `${sid}.bak`)).toEqual(pre.registry[`${PROFILE_LIST_KEY}\\${sid}.bak`]);
    const forced = await rollback(r.runId, true);
    expect(forced.hosts[0]!.outcome).toBe('rolledBack');
    expect(host.read()).toEqual(pre);
    // The undo scripts again, unattended, with only their checkpoints: nothing to do.
    const records = readRun(env.stateDir, r.runId).records as { type: string; step?: string; state?: unknown }[];
    const pb = env.catalogue.get('fix-user-profile')!;
    for (const step of ['restore-profile-key', 'export-profile-keys']) {
      const checkpoint = records.find((x) => x.type === 'step-checkpoint' && x.step === step)!.state;
      const input = JSON.stringify({ runId: r.runId, host: 'lab-001', playbook: 'fix-user-profile', step, phase: 'undo', parameters: { user: 'carol' }, checkpoint });
      const out = await onHost(host, pb.scripts['fix-user-profile.ps1']!, [input]);
      expect(JSON.parse(out[0] as string)).toMatchObject({ changed: false });
    }
    expect(host.read()).toEqual(pre);
  });

  it('a %ProgramData%\\rdpfix an ordinary user created (owner not ours) is refused: blocked in the plan, nothing changed', async () => {
    const host = corruptHost(userMadeRdpfixFolder);
    const pre = host.read();
    const plan = (await run([host], 'plan')).hosts[0]!.results['fix-user-profile']!.plan;
    expect(plan[0]!.action).toBe('blocked');
    const r = await run([host], 'apply');
    expect(r.hosts[0]!.outcome).not.toBe('succeeded');
    expect(r.hosts[0]!.results['fix-user-profile']!.failure).toMatchObject({ step: 'export-profile-keys', phase: 'blocked' });
    expect(r.hosts[0]!.results['fix-user-profile']!.failure!.message).toMatch(/C:\\ProgramData\\rdpfix exists and is not rdpfix's own: its owner is S-1-5-21-[0-9-]+-1003, not SYSTEM/);
    expect(host.read()).toEqual(pre);
  });

  it('the apply refuses a user-made %ProgramData%\\rdpfix by itself too (made after the check), writing nothing', async () => {
    const host = corruptHost(userMadeRdpfixFolder);
    const pre = host.read();
    const input = JSON.stringify({ runId: 'r-1', host: 'lab-001', playbook: 'fix-user-profile', step: 'export-profile-keys', phase: 'apply', parameters: { user: 'carol' }, checkpoint: null });
    const e = await env.broker.invoke({ kind: 'lab', host: host.state.name, statePath: host.statePath }, env.catalogue.get('fix-user-profile')!.scripts['fix-user-profile.ps1']!, [input], { timeoutMs: 60000 });
    expect(!e.ok && e.error.message).toMatch(/refused: C:\\ProgramData\\rdpfix exists and is not rdpfix's own: its owner is S-1-5-21-/);
    expect(host.read()).toEqual(pre);
  });

  it('TermService down: whether carol is logged on cannot be read (WTS API), so the repair is blocked, nothing changed', async () => {
    const host = corruptHost((s) => {
      for (const svc of s.services) if (svc.Name === 'TermService' || svc.Name === 'UmRdpService') svc.Status = 'Stopped';
    });
    const pre = host.read();
    const plan = (await run([host], 'plan')).hosts[0]!.results['fix-user-profile']!.plan;
    expect(plan[0]!.action).toBe('blocked');
    expect(JSON.stringify(plan[0])).toMatch(/cannot tell whether carol is logged on .*1722.*restart-termservice/);
    expect(host.read()).toEqual(pre);
  });

  it('carol logged on: blocked with "log the user off first", nothing changed', async () => {
    const host = corruptHost((s) => {
      s.sessions.push({ Id: 3, SessionName: '', UserName: 'carol', State: 'Disc', Type: '', Device: '', IdleMinutes: 30, LogonTime: '2026-11-25T11:00:00Z' });
    });
    const pre = host.read();
    const plan = (await run([host], 'plan')).hosts[0]!.results['fix-user-profile']!.plan;
    expect(plan[0]!.action).toBe('blocked');
    const r = await run([host], 'apply');
    expect(r.hosts[0]!.outcome).not.toBe('succeeded');
    expect(r.hosts[0]!.results['fix-user-profile']!.failure).toMatchObject({ step: 'export-profile-keys', phase: 'blocked' });
    expect(r.hosts[0]!.results['fix-user-profile']!.failure!.message).toMatch(/carol is logged on: carol \(session 3, Disconnected\)\. Log the user off first \(reset-stuck-sessions\)/);
    expect(host.read()).toEqual(pre);
  });

  it('blocked when the backed-up profile folder is gone (KB947215: folder deleted), nothing changed', async () => {
    const host = corruptHost((s) => {
      delete s.files['C:\\Users\\carol\\NTUSER.DAT'];
      delete s.files['C:\\Users\\carol'];
    });
    const pre = host.read();
    const r = await run([host], 'apply');
    expect(r.hosts[0]!.results['fix-user-profile']!.failure).toMatchObject({ phase: 'blocked', message: expect.stringMatching(/folder C:\\Users\\carol does not exist/) });
    expect(host.read()).toEqual(pre);
  });

  it('two corrupt profiles: the diagnosis names both SIDs and the run repairs both (all or nothing); rollback restores both', async () => {
    // bob's profile broke the same way as carol's (KB947215: <SID> at TEMP, the real one as <SID>.bak).
    const host = corruptHost((s) => {
      const bob = Object.keys(s.registry).find((k) => k.startsWith(`${PROFILE_LIST_KEY}\\`) && /C:\\Users\\bob$/.test(String(s.registry[k]!.ProfileImagePath?.data)))!;
      s.registry[`${bob}.bak`] = { ...s.registry[bob]!, State: { kind: 'DWord', data: 0x8000 }, RefCount: { kind: 'DWord', data: 1 } };
      s.registry[bob] = { ...s.registry[bob]!, ProfileImagePath: { kind: 'ExpandString', data: 'C:\\Users\\TEMP.001' }, State: { kind: 'DWord', data: 0x0800 } };
    });
    const pre = host.read();
    const broken = () => Object.keys(host.read().registry).filter((k) => k.startsWith(`${PROFILE_LIST_KEY}\\`) && k.endsWith('.bak')).map((k) => k.split('\\').pop()!.replace(/\.bak$/, '')).sort();
    const sids = broken();
    expect(sids).toHaveLength(2);
    const [d] = await diagnoseFleet(labInventory([host]), env.broker, { timeoutMs: 60000 });
    const finding = d!.findings.find((f) => f.cause === 'profile-corrupt')!;
    expect([...(finding.parameters!.users as string[])].sort()).toEqual(sids);
    const plan = (await run([host], 'plan', finding.parameters)).hosts[0]!.results['fix-user-profile']!.plan;
    expect((plan[1]!.before as { profiles: { sid: string; case: string }[] }).profiles.map((x) => [x.sid, x.case]).sort()).toEqual(sids.map((x) => [x, 'both']));
    const r = await run([host], 'apply', finding.parameters);
    expect(r.hosts[0]!.results['fix-user-profile']!.failure).toBeNull();
    expect(broken()).toEqual([]);
    for (const sid of sids) expect(profileKey(host, sid)!.State).toEqual({ kind: 'DWord', data: 0 });
    const back = await rollback(r.runId);
    expect(back.hosts[0]!.outcome).toBe('rolledBack');
    expect(host.read()).toEqual(pre);
  });

  it('an unknown user is a clear error, nothing changed', async () => {
    const host = corruptHost();
    const pre = host.read();
    const r = await run([host], 'apply', { user: 'zed' });
    expect(r.hosts[0]!.results['fix-user-profile']!.failure).toMatchObject({ step: 'export-profile-keys', phase: 'check' });
    expect(r.hosts[0]!.results['fix-user-profile']!.failure!.message).toMatch(/no account and no profile named 'zed' on this host/);
    expect(host.read()).toEqual(pre);
  });

  it('rejects a malformed user before touching any host', async () => {
    const host = corruptHost();
    const pre = host.read();
    for (const user of ['carol;rm', 'a\\b\\c', 'carol@contoso.com', ' carol', 'S-1-5-21-1-2-3']) {
      await expect(run([host], 'apply', { user })).rejects.toThrow(/Parameter fix-user-profile\.user must match/);
    }
    await expect(run([host], 'apply', {})).rejects.toThrow(/needs parameter 'user'/);
    expect(host.read()).toEqual(pre);
    expect(existsSync(auditPath(host))).toBe(false);
  });

  it('skips a healthy host: nothing changed', async () => {
    const host = makeLabHost(undefined, 7);
    const pre = host.read();
    const r = await run([host], 'apply');
    expect(r.hosts[0]!.outcome).toBe('succeeded');
    expect(r.hosts[0]!.results['fix-user-profile']!.skipped).toEqual(['export-profile-keys', 'restore-profile-key']);
    expect(host.read()).toEqual(pre);
  });
});
