import { describe, it, expect, afterAll } from 'vitest';
import path from 'node:path';
import { makeLabHost, runLab, type LabHostFixture, useLabLocale } from '../helpers/lab.js';
import { engineSetup, labInventory } from '../helpers/engine.js';
import { startRun, rollbackRun, type RunResult } from '../../src/engine/run.js';
import { diagnoseFleet } from '../../src/diagnose/diagnose.js';
import { readRun } from '../../src/journal/journal.js';
import { projectRoot } from '../../src/paths.js';
import { applyScenario } from '../../src/lab/scenarios.js';
import { createRng } from '../../src/lab/rng.js';
import { MACHINE_KEYS_DIR, MACHINE_KEYS_SDDL, RDP_KEY_PREFIX, RDP_KEY_SDDL, RDP_TCP_KEY, cngKeysDir, machineKeysDir, onSystemDrive, thumbprintBytes, withCngRdpKey } from '../../src/lab/base-host.js';
import { labHostNow, type LabHostState } from '../../src/lab/state.js';

// Every playbook test runs on a non-English host (issue 11): tool text and account names in ja-JP.
useLabLocale('ja-JP');

const env = engineSetup([path.join(projectRoot(), 'playbooks')]);
afterAll(() => env.broker.close());

const PB = 'machinekeys-repair';
const NOW = new Date('2026-11-25T12:00:00Z');
const RD = 'LocalMachine\\Remote Desktop';
const RSA = 'C:\\ProgramData\\Microsoft\\Crypto\\RSA';
const STEPS = ['folder-acl', 'rdp-key-acl', 'rdp-key-reset', 'folder-reset'];
const keyPath = (s: LabHostState) => `${MACHINE_KEYS_DIR}\\${RDP_KEY_PREFIX}_${s.machineGuid}`;
const winrmKeyPath = (s: LabHostState) => `${MACHINE_KEYS_DIR}\\${s.certificates['LocalMachine\\My']![0]!.KeyContainer}`;

type Mutation = (s: LabHostState) => void;
const host = (name: string, seed: number, ...mutations: Mutation[]) => makeLabHost((s) => { s.name = name; for (const m of mutations) m(s); }, seed);
/** The lab scenario: the RDP key lost NETWORK SERVICE, the folder ACL was replaced; TermService 1057, Schannel 36870 in the log. */
const scenario: Mutation = (s) => applyScenario(s, 'machinekeys-corrupt', createRng(7), NOW);
/** A damaged key the administrators may read (they open it and it fails): unusable, and the playbook can tell. A
 *  damaged key behind the documented ACL (NETWORK SERVICE and SYSTEM only) is out of an administrator's sight. */
const damagedKey: Mutation = (s) => { s.files[keyPath(s)]!.corrupt = true; s.files[keyPath(s)]!.sddl = 'O:BAG:SYD:P(A;;FR;;;NS)(A;;FA;;;SY)(A;;FR;;;BA)'; };
/** An empty key file holds no key: the service cannot load it, and its length shows that to anyone. */
const emptyKey: Mutation = (s) => { s.files[keyPath(s)]!.content = ''; };
const deleteKey: Mutation = (s) => { delete s.files[keyPath(s)]; };

const run = (hosts: LabHostFixture[], mode: 'plan' | 'apply', strategy?: string) =>
  startRun({ mode, inventory: labInventory(hosts), catalogue: env.catalogue, playbookIds: [PB], parameters: strategy ? { [PB]: { strategy } } : {},
    concurrency: hosts.length, allowIrreversible: false, stateDir: env.stateDir, broker: env.broker });
const rollback = (runId: string) => rollbackRun({ stateDir: env.stateDir, runId, catalogue: env.catalogue, broker: env.broker, force: false });
const result = (r: RunResult, name: string) => r.hosts.find((h) => h.host === name)!.results[PB]!;
const snapshot = (hosts: Record<string, LabHostFixture>) => Object.fromEntries(Object.entries(hosts).map(([k, h]) => [k, h.read()]));
/** A TermService restart drops live RDP connections (reference 1.7): alice's active session ends up disconnected. */
const dropped = (s: LabHostState) => s.sessions.map((x) => (x.SessionName.startsWith('rdp-tcp#') ? { ...x, State: 'Disc', SessionName: '', Type: '', Device: '' } : x));

describe('playbook machinekeys-repair on the lab', () => {
  it('plans the ACL repair ACE by ACE, skips a healthy host, and blocks the ACL strategy where only a reset helps', async () => {
    const f = { corrupt: host('lab-001', 1, scenario), healthy: host('lab-002', 2), key: host('lab-003', 3, damagedKey) };
    const pre = snapshot(f);
    const plan = await run(Object.values(f), 'plan');
    const p = Object.fromEntries(plan.hosts.map((h) => [h.host, h.results[PB]!.plan]));
    expect(p['lab-001']!.map((e) => e.action)).toEqual(['apply', 'apply', 'skip', 'skip']);
    expect(p['lab-001']![0]).toMatchObject({
      before: { sddl: 'O:BAG:SYD:PAI(A;OICI;FA;;;BA)', owner: 'BUILTIN\\Administrators' },
      after: { sddl: MACHINE_KEYS_SDDL, owner: 'NT AUTHORITY\\SYSTEM', changes: {
        owner: 'BUILTIN\\Administrators -> NT AUTHORITY\\SYSTEM',
        removed: ['Allow BUILTIN\\Administrators Full control [OICI]'],
        added: ['Allow Everyone Read, Write', 'Allow BUILTIN\\Administrators Full control'] } },
    });
    expect(p['lab-001']![1]).toMatchObject({
      predictable: false,
      before: { sddl: 'O:BAG:SYD:P(A;;FA;;;BA)', usableByRemoteDesktopServices: false, certificate: { ready: false } },
      after: { sddl: RDP_KEY_SDDL, changes: { owner: null, removed: ['Allow BUILTIN\\Administrators Full control'],
        added: ['Allow NT AUTHORITY\\NETWORK SERVICE Read', 'Allow NT AUTHORITY\\SYSTEM Full control'] } },
    });
    expect(p['lab-001']![2]!.before).toMatchObject({ selected: false, strategy: 'acl' });
    expect(p['lab-002']!.map((e) => e.action)).toEqual(['skip', 'skip', 'skip', 'skip']);
    expect(p['lab-003']!.map((e) => e.action)).toEqual(['skip', 'blocked', 'skip', 'skip']);
    expect(p['lab-003']![1]!.reason).toMatch(/already gives NETWORK SERVICE read and SYSTEM full control, yet the RDP certificate is not usable .*--param machinekeys-repair\.strategy=rdp-key/);
    expect(snapshot(f)).toEqual(pre);
  });

  it('strategy acl: repairs the scenario, a second diagnosis finds the key readable, rollback restores it exactly', async () => {
    const f = { corrupt: host('lab-001', 4, scenario), healthy: host('lab-002', 5), hopeless: host('lab-003', 6, scenario, emptyKey) };
    const pre = snapshot(f);
    const started = labHostNow(f.corrupt.state, f.corrupt.statePath).getTime(); // by the host's clock
    const r = await run(Object.values(f), 'apply');
    expect(Object.fromEntries(r.hosts.map((h) => [h.host, h.outcome]))).toEqual({ 'lab-001': 'succeeded', 'lab-002': 'succeeded', 'lab-003': 'rolledBack' });
    expect(result(r, 'lab-001')).toMatchObject({ completed: ['folder-acl', 'rdp-key-acl'], skipped: ['rdp-key-reset', 'folder-reset'] });
    const fixed = f.corrupt.read();
    expect(fixed.files[MACHINE_KEYS_DIR]!.sddl).toBe(MACHINE_KEYS_SDDL);
    expect(fixed.files[keyPath(fixed)]!.sddl).toBe(RDP_KEY_SDDL);
    expect({ ...fixed, files: pre.corrupt.files }).toEqual(pre.corrupt); // nothing but the two ACLs changed
    // Healthy: every step skipped, nothing touched. Hopeless (corrupt key too): the ACL fix cannot help, so the
    // run rolls back and says what to do next.
    expect(result(r, 'lab-002').skipped).toEqual(STEPS);
    expect(f.healthy.read()).toEqual(pre.healthy);
    expect(result(r, 'lab-003').failure).toMatchObject({ step: 'rdp-key-acl', phase: 'verify' });
    expect(result(r, 'lab-003').failure!.message).toMatch(/the ACLs are repaired, but the private key of certificate \w+ cannot be read.*--param machinekeys-repair\.strategy=rdp-key/);
    expect(f.hopeless.read()).toEqual(pre.hopeless);

    const d = Object.fromEntries((await diagnoseFleet(labInventory([f.corrupt, f.hopeless]), env.broker, { timeoutMs: 60000 })).map((x) => [x.host, x]));
    expect(d['lab-001']!.findings.filter((x) => x.cause !== 'machinekeys-corrupt')).toEqual([]);
    // The key reads now. findings.ts still counts the scenario's TermService 1057 / Schannel 36870 events of the last
    // 7 days, which stay in the log after the fix: whatever it still reports must be those old events only.
    const left = d['lab-001']!.findings.find((x) => x.cause === 'machinekeys-corrupt')?.evidence ?? [];
    expect(left.filter((e) => !/^event (Schannel 36870|Microsoft-Windows-TerminalServices-RemoteConnectionManager 1057) /.test(e))).toEqual([]);
    for (const e of left) expect(Date.parse(/\(last (\S+)\)/.exec(e)![1]!)).toBeLessThan(started);
    expect(d['lab-003']!.findings.find((x) => x.cause === 'machinekeys-corrupt')!.evidence.some((e) => /claims a private key that cannot be read/.test(e))).toBe(true);

    const back = await rollback(r.runId);
    expect(back.hosts.map((h) => h.outcome)).toEqual(['rolledBack', 'rolledBack', 'rolledBack']);
    expect(f.corrupt.read()).toEqual(pre.corrupt);
    expect(f.healthy.read()).toEqual(pre.healthy);
  });

  it('strategies rdp-key and folder: a new self-signed certificate, other keys carried over, rollback restores every file, ACL, certificate and binding', async () => {
    const f = {
      corrupt: host('lab-001', 11, emptyKey),
      deleted: host('lab-002', 12, deleteKey),
      // Bound to a custom certificate in LocalMachine\My whose key is unusable: not this playbook's certificate.
      custom: host('lab-004', 14, (s) => {
        const my = s.certificates['LocalMachine\\My']![0]!;
        s.registry[RDP_TCP_KEY]!.SSLCertificateSHA1Hash = { kind: 'Binary', data: thumbprintBytes(my.Thumbprint) };
        s.files[`${MACHINE_KEYS_DIR}\\${my.KeyContainer}`]!.corrupt = true;
      }),
      folder: host('lab-003', 13, emptyKey),
    };
    const pre = snapshot(f);
    const [rk, fo] = await Promise.all([run([f.corrupt, f.deleted, f.custom], 'apply', 'rdp-key'), run([f.folder], 'apply', 'folder')]);
    expect(Object.fromEntries([...rk.hosts, ...fo.hosts].map((h) => [h.host, h.outcome]))).toEqual({ 'lab-001': 'succeeded', 'lab-002': 'succeeded', 'lab-004': 'rolledBack', 'lab-003': 'succeeded' });
    expect(result(rk, 'lab-004').failure).toMatchObject({ step: 'rdp-key-reset', phase: 'blocked' });
    expect(result(rk, 'lab-004').failure!.message).toMatch(/bound to a custom or group-policy certificate/);
    expect(f.custom.read()).toEqual(pre.custom);

    // rdp-key on an unusable key: the key moved aside (same bytes, same ACL), the old certificate to a backup store, a new one bound.
    const c = f.corrupt.read();
    const oldCert = pre.corrupt.certificates[RD]![0]!;
    const cert = c.certificates[RD]![0]!;
    expect(result(rk, 'lab-001')).toMatchObject({ completed: ['rdp-key-reset'], skipped: ['folder-acl', 'rdp-key-acl', 'folder-reset'] });
    expect(c.certificates[RD]).toHaveLength(1);
    expect(cert).toMatchObject({ Subject: 'CN=LAB-001', HasPrivateKey: true, KeyContainer: oldCert.KeyContainer });
    expect(cert.Thumbprint).not.toBe(oldCert.Thumbprint);
    expect(c.registry[RDP_TCP_KEY]!.SSLCertificateSHA1Hash).toEqual({ kind: 'Binary', data: thumbprintBytes(cert.Thumbprint) });
    expect(c.certificates[`LocalMachine\\rdpfix-rdpkey-${rk.runId}`]).toEqual([oldCert]);
    expect(c.files[`${RSA}\\rdpfix-rdpkey-${rk.runId}\\${RDP_KEY_PREFIX}_${c.machineGuid}`]).toEqual(pre.corrupt.files[keyPath(c)]);
    expect(c.files[keyPath(c)]).toMatchObject({ sddl: RDP_KEY_SDDL });
    expect(c.files[keyPath(c)]!.corrupt).toBeUndefined();
    const check = result(rk, 'lab-001').checks['rdp-key-reset']!;
    expect((check.after as { key: string }).key).toMatch(/^moved to .*rdpfix-rdpkey-.* \(kept for undo\)/);
    expect(check.warnings.join(' ')).toMatch(/drops these RDP connections .*alice \(session 2, RDP-Tcp#0, Active\)/);
    // A deleted key: nothing to move, a new key and certificate all the same.
    const dl = f.deleted.read();
    expect(dl.files[keyPath(dl)]!.sddl).toBe(RDP_KEY_SDDL);
    expect(dl.certificates[RD]![0]!.Thumbprint).not.toBe(pre.deleted.certificates[RD]![0]!.Thumbprint);
    expect(Object.keys(dl.files).some((k) => k.includes('rdpfix-rdpkey'))).toBe(false);

    // folder: the old folder renamed aside with the RDP key only; a fresh folder with the default ACL holds the WinRM
    // HTTPS key exactly as it was (same bytes, same ACL) and a new RDP key.
    const fd = f.folder.read();
    const aside = `${RSA}\\MachineKeys-rdpfix-${fo.runId}`;
    expect(result(fo, 'lab-003')).toMatchObject({ completed: ['folder-reset'], skipped: ['folder-acl', 'rdp-key-acl', 'rdp-key-reset'] });
    expect(fd.files[aside]).toEqual(pre.folder.files[MACHINE_KEYS_DIR]);
    expect(Object.keys(fd.files).filter((k) => k.startsWith(aside + '\\'))).toEqual([`${aside}\\${RDP_KEY_PREFIX}_${fd.machineGuid}`]);
    expect(fd.files[MACHINE_KEYS_DIR]!.sddl).toBe(MACHINE_KEYS_SDDL);
    expect(fd.files[winrmKeyPath(fd)]).toEqual(pre.folder.files[winrmKeyPath(fd)]);
    expect(fd.files[keyPath(fd)]).toMatchObject({ sddl: RDP_KEY_SDDL });
    expect(fd.certificates[`LocalMachine\\rdpfix-folder-${fo.runId}`]).toEqual(pre.folder.certificates[RD]);
    expect((result(fo, 'lab-003').checks['folder-reset']!.after as { carriedOver: string[] }).carriedOver).toEqual([winrmKeyPath(fd).split('\\').pop()]);

    // Healthy for the cause (and altogether) by a second diagnosis.
    const d = await diagnoseFleet(labInventory([f.corrupt, f.deleted, f.folder]), env.broker, { timeoutMs: 60000 });
    expect(d.map((x) => [x.host, x.findings])).toEqual([['lab-001', []], ['lab-002', []], ['lab-003', []]]);

    // Rollback: the state documents are exactly as before, but for the RDP connections the restarts dropped.
    const backs = await Promise.all([rollback(rk.runId), rollback(fo.runId)]);
    expect(backs.flatMap((b) => b.hosts.map((h) => h.outcome))).toEqual(['rolledBack', 'rolledBack', 'rolledBack', 'rolledBack']);
    for (const k of ['corrupt', 'deleted', 'folder'] as const) {
      const now = f[k].read();
      expect({ ...now, sessions: pre[k].sessions }).toEqual(pre[k]);
      expect(now.sessions).toEqual(dropped(pre[k]));
    }

    // An undo may run twice (a revert task may run it unattended): the second run changes nothing.
    const cp = readRun(env.stateDir, rk.runId).records.find((x) => x.type === 'step-checkpoint' && x.host === 'lab-001' && x.step === 'rdp-key-reset')!;
    const before = f.corrupt.read();
    const again = await runLab(f.corrupt.statePath, env.catalogue.get(PB)!.scripts[`${PB}.ps1`]!, // as sent: with the shared prelude
      [JSON.stringify({ runId: rk.runId, host: 'lab-001', playbook: PB, step: 'rdp-key-reset', phase: 'undo', parameters: { strategy: 'rdp-key' }, checkpoint: cp.state })]);
    expect(again.error).toBeNull();
    expect(JSON.parse(again.output[0] as string)).toMatchObject({ changed: false });
    expect(f.corrupt.read()).toEqual(before);
  });

  it('rejects an unknown strategy before any host is touched', async () => {
    const h = host('lab-001', 21, scenario);
    const pre = h.read();
    await expect(run([h], 'apply', 'everything')).rejects.toThrow(/machinekeys-repair\.strategy must be one of acl, rdp-key, folder/);
    expect(h.read()).toEqual(pre);
  });

  describe('judges the key as Remote Desktop Services sees it, not as the remote administrator', () => {
    // What an administrator's session gets from the RDP certificate: the property hides the exception ($null), the
    // getter method surfaces the CryptographicException and its HRESULT.
    const keyProbe = `$c = @(Get-ChildItem -Path 'Cert:\\LocalMachine\\Remote Desktop')[0]
$r = [ordered]@{ property = ($null -ne $c.PrivateKey); hresult = $null; inner = $null }
try { $null = $c.get_PrivateKey() } catch { $r.inner = $_.Exception.InnerException.GetType().FullName; $r.hresult = $_.Exception.InnerException.HResult }
$r | ConvertTo-Json -Compress`;
    const adminView = async (h: LabHostFixture) => JSON.parse((await runLab(h.statePath, keyProbe)).output[0] as string) as { property: boolean; hresult: number; inner: string };
    const NTE_BAD_KEYSET = 0x80090016 | 0;
    const NTE_BAD_PROV_TYPE = 0x80090014 | 0;
    const plans = async (hosts: LabHostFixture[], strategy: string) =>
      Object.fromEntries((await run(hosts, 'plan', strategy)).hosts.map((h) => [h.host, h.results[PB]!.plan!.map((e) => e.action)]));

    it('a healthy CAPI key (NETWORK SERVICE read, SYSTEM full, nothing for Administrators): the admin gets NTE_BAD_KEYSET, yet nothing is repaired or reset', async () => {
      const h = host('lab-001', 31);
      const pre = h.read();
      expect(await adminView(h)).toEqual({ property: false, hresult: NTE_BAD_KEYSET, inner: 'System.Security.Cryptography.CryptographicException' });
      expect(await plans([h], 'acl')).toEqual({ 'lab-001': ['skip', 'skip', 'skip', 'skip'] });
      expect(await plans([h], 'rdp-key')).toEqual({ 'lab-001': ['skip', 'skip', 'skip', 'skip'] });
      const r = await run([h], 'apply', 'rdp-key');
      expect(result(r, 'lab-001').skipped).toEqual(STEPS);
      expect(h.read()).toEqual(pre);
      const [d] = await diagnoseFleet(labInventory([h]), env.broker, { timeoutMs: 60000 });
      expect(d!.findings).toEqual([]);
      expect(d!.notes.filter((n) => n.topic === 'rdp-key')).toEqual([]);
    });

    it('a healthy CNG key in Crypto\\Keys: .NET Framework cannot open it (NTE_BAD_PROV_TYPE), it is judged healthy; a broken ACL on it is repaired there', async () => {
      const healthy = host('lab-001', 32, withCngRdpKey);
      const broken = host('lab-002', 33, withCngRdpKey, (s) => { s.files[`${cngKeysDir()}\\${RDP_KEY_PREFIX}_${s.machineGuid}`]!.sddl = 'O:BAG:SYD:P(A;;FA;;;BA)'; });
      const pre = snapshot({ healthy, broken });
      expect(await adminView(healthy)).toEqual({ property: false, hresult: NTE_BAD_PROV_TYPE, inner: 'System.Security.Cryptography.CryptographicException' });
      expect(await plans([healthy], 'rdp-key')).toEqual({ 'lab-001': ['skip', 'skip', 'skip', 'skip'] });
      const r = await run([healthy, broken], 'apply');
      expect(result(r, 'lab-001').skipped).toEqual(STEPS);
      expect(healthy.read()).toEqual(pre.healthy);
      expect(result(r, 'lab-002')).toMatchObject({ completed: ['rdp-key-acl'], skipped: ['folder-acl', 'rdp-key-reset', 'folder-reset'] });
      const b = broken.read();
      expect(b.files[`${cngKeysDir()}\\${RDP_KEY_PREFIX}_${b.machineGuid}`]!.sddl).toBe(RDP_KEY_SDDL);
      expect(b.files[keyPath(b)]).toBeUndefined(); // no CAPI key was made up beside it
      const d = await diagnoseFleet(labInventory([healthy, broken]), env.broker, { timeoutMs: 60000 });
      expect(d.map((x) => [x.host, x.findings])).toEqual([['lab-001', []], ['lab-002', []]]);
      expect((await rollback(r.runId)).hosts.map((x) => x.outcome)).toEqual(['rolledBack', 'rolledBack']);
      expect(broken.read()).toEqual(pre.broken);
    });

    it('an empty CNG key: rdp-key issues a new (CAPI) key and certificate; rollback removes it and puts the CNG key back exactly', async () => {
      const h = host('lab-001', 37, withCngRdpKey, (s) => { s.files[`${cngKeysDir()}\\${RDP_KEY_PREFIX}_${s.machineGuid}`]!.content = ''; });
      const pre = h.read();
      const r = await run([h], 'apply', 'rdp-key');
      expect(result(r, 'lab-001')).toMatchObject({ completed: ['rdp-key-reset'] });
      const s = h.read();
      expect(s.files[keyPath(s)]).toMatchObject({ sddl: RDP_KEY_SDDL });
      expect(s.files[`${cngKeysDir()}\\${RDP_KEY_PREFIX}_${s.machineGuid}`]).toBeUndefined();
      expect((await rollback(r.runId)).hosts.map((x) => x.outcome)).toEqual(['rolledBack']);
      const back = h.read();
      expect({ ...back, sessions: pre.sessions }).toEqual(pre);
    });

    it('Windows on D: (%ProgramData% = D:\\ProgramData): the probe and the playbook find MachineKeys there, nothing on C:', async () => {
      const d1 = host('lab-001', 34, scenario, (s) => onSystemDrive(s, 'D:'));
      const d2 = host('lab-002', 35, (s) => onSystemDrive(s, 'D:'));
      expect(Object.keys(d1.state.files).filter((k) => /^C:/i.test(k))).toEqual([]);
      const pre = snapshot({ d1, d2 });
      const before = await diagnoseFleet(labInventory([d1, d2]), env.broker, { timeoutMs: 60000 });
      expect(before.find((x) => x.host === 'lab-002')!.findings).toEqual([]);
      expect(before.find((x) => x.host === 'lab-001')!.findings.map((x) => x.cause)).toContain('machinekeys-corrupt');
      const r = await run([d1, d2], 'apply');
      expect(r.hosts.map((x) => x.outcome)).toEqual(['succeeded', 'succeeded']);
      expect(result(r, 'lab-001')).toMatchObject({ completed: ['folder-acl', 'rdp-key-acl'] });
      const fixed = d1.read();
      expect(fixed.files[machineKeysDir('D:')]!.sddl).toBe(MACHINE_KEYS_SDDL);
      expect(fixed.files[`${machineKeysDir('D:')}\\${RDP_KEY_PREFIX}_${fixed.machineGuid}`]!.sddl).toBe(RDP_KEY_SDDL);
      expect(Object.keys(fixed.files).filter((k) => /^C:/i.test(k))).toEqual([]);
      expect(d2.read()).toEqual(pre.d2);
      const after = await diagnoseFleet(labInventory([d1]), env.broker, { timeoutMs: 60000 });
      expect(after[0]!.findings.filter((x) => x.cause !== 'machinekeys-corrupt')).toEqual([]);
      expect((after[0]!.findings.find((x) => x.cause === 'machinekeys-corrupt')?.evidence ?? []).filter((e) => !/^event /.test(e))).toEqual([]);
    });

    it('strategy rdp-key on Windows on D: restarts TermService within bounds and waits for the new certificate, which verify then judges', async () => {
      const h = host('lab-001', 36, emptyKey, (s) => onSystemDrive(s, 'D:'));
      const r = await run([h], 'apply', 'rdp-key');
      expect(result(r, 'lab-001')).toMatchObject({ completed: ['rdp-key-reset'] });
      const s = h.read();
      const key = `${machineKeysDir('D:')}\\${RDP_KEY_PREFIX}_${s.machineGuid}`;
      expect(s.files[key]).toMatchObject({ sddl: RDP_KEY_SDDL });
      expect(s.files[`D:\\ProgramData\\Microsoft\\Crypto\\RSA\\rdpfix-rdpkey-${r.runId}\\${RDP_KEY_PREFIX}_${s.machineGuid}`]).toBeDefined();
      expect(s.services.filter((x) => ['TermService', 'UmRdpService'].includes(x.Name)).map((x) => x.Status)).toEqual(['Running', 'Running']);
      const [d] = await diagnoseFleet(labInventory([h]), env.broker, { timeoutMs: 60000 });
      expect(d!.findings).toEqual([]);
    });
  });
});
