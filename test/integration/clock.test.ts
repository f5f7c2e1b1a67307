import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { LAB_SEEDED_AT, makeLabHost } from '../helpers/lab.js';
import { labInventory } from '../helpers/engine.js';
import { Broker } from '../../src/broker/broker.js';
import { diagnoseFleet } from '../../src/diagnose/diagnose.js';
import { createRng } from '../../src/lab/rng.js';
import { applyScenario } from '../../src/lab/scenarios.js';
import { MACHINE_KEYS_DIR, MACHINE_KEYS_SDDL, RDP_KEY_SDDL } from '../../src/lab/base-host.js';
import type { LabHostState } from '../../src/lab/state.js';
import { projectRoot } from '../../src/paths.js';
import { locatePowerShell } from '../../src/powershell/locate.js';

/**
 * Time-dependent judgements (event age, certificate expiry, task triggers) read the host's own clock, never the
 * controller's: a lab seeded at a fixed time must give the same diagnosis on any date (issue: main went red
 * eleven days after a fixture's date). Two ways in: hosts seeded far from today (an injected clock), and the
 * controller's clock itself moved with libfaketime (Debian package `faketime`; .ci/run installs it).
 */

const DAY = 86_400_000;

/** Hosts whose diagnosis depends on time: old key events on a repaired host (history, not a cause), recent ones on
 *  a broken host, and a certificate that expires ten days after the host's seeded time. */
function timeSensitiveHosts(now: Date) {
  const host = (name: string, mutate: (s: LabHostState) => void) => makeLabHost((s) => { s.name = name; mutate(s); }, 1, now);
  return [
    host('mk-repaired', (s) => {
      applyScenario(s, 'machinekeys-corrupt', createRng(7), now);
      s.files[MACHINE_KEYS_DIR]!.sddl = MACHINE_KEYS_SDDL;
      const key = Object.keys(s.files).find((p) => p.startsWith(`${MACHINE_KEYS_DIR}\\f686aace`))!;
      s.files[key]!.sddl = RDP_KEY_SDDL;
    }),
    host('mk-corrupt', (s) => applyScenario(s, 'machinekeys-corrupt', createRng(7), now)),
    host('cert-soon', (s) => {
      s.certificates['LocalMachine\\Remote Desktop']![0]!.NotAfter = new Date(now.getTime() + 10 * DAY).toISOString();
    }),
  ];
}

interface Verdict { host: string; healthy: boolean; findings: { cause: string }[]; notes: { topic: string }[] }
const verdicts = (hosts: Verdict[]) =>
  Object.fromEntries(hosts.map((d) => [d.host, { healthy: d.healthy, causes: d.findings.map((f) => f.cause), notes: d.notes.map((n) => n.topic) }]));

const EXPECTED = {
  'mk-repaired': { healthy: true, causes: [], notes: ['event-history'] },
  'mk-corrupt': { healthy: false, causes: ['machinekeys-corrupt'], notes: [] },
  'cert-soon': { healthy: true, causes: [], notes: [] },
};

/** libfaketime's preload library, from Debian's `faketime` package. */
function libfaketime(): string {
  const lib = readdirSync('/usr/lib', { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => path.join('/usr/lib', d.name, 'faketime', 'libfaketime.so.1'))
    .find((p) => existsSync(p));
  if (!lib) throw new Error('libfaketime not found: install the Debian package `faketime` (.ci/run does).');
  return lib;
}

describe("judged by the host's clock, on any date", () => {
  it('hosts seeded 400 days ago, now, or 400 days ahead get the same diagnosis', async () => {
    const broker = new Broker({ processes: 1 });
    try {
      for (const now of [new Date(Date.now() - 400 * DAY), new Date(), new Date(Date.now() + 400 * DAY)]) {
        const inventory = labInventory(timeSensitiveHosts(now));
        const by = verdicts(await diagnoseFleet(inventory, broker, { timeoutMs: 60_000 }));
        expect({ seededAt: now.toISOString(), by }).toEqual({ seededAt: now.toISOString(), by: EXPECTED });
      }
    } finally {
      await broker.close();
    }
  }, 240_000);

  it("a lab seeded at a fixed date gives the same diagnosis with the controller's clock 400 days ahead", async () => {
    // One lab folder, as `lab init` writes it: state paths are relative to the inventory's folder.
    const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-clock-'));
    mkdirSync(path.join(dir, 'hosts'));
    const hosts = timeSensitiveHosts(LAB_SEEDED_AT).map((h) => h.state);
    for (const h of hosts) writeFileSync(path.join(dir, 'hosts', `${h.name}.json`), JSON.stringify(h));
    const inventory = path.join(dir, 'inventory.yaml');
    writeFileSync(inventory, JSON.stringify({ version: 1, hosts: hosts.map((h) => ({ name: h.name, transport: { kind: 'lab', state: `hosts/${h.name}.json` } })) }));
    for (const shift of ['+400d']) {
      // The monotonic clock moves with it: FAKETIME_DONT_FAKE_MONOTONIC=1 makes .NET's timed waits return at once
      // (Start-Sleep 300 ms took 21 ms), which turns every wait into a spin and PowerShell 3x slower.
      const env = { LD_PRELOAD: libfaketime(), FAKETIME: shift };
      // The shift really reaches node and PowerShell: their clocks are far from the hosts' (the suite itself may
      // run under faketime, whose FAKETIME this replaces, so the check is the distance, not a date).
      const nodeDate = spawnSync(process.execPath, ['-e', 'console.log(new Date().toISOString())'], { env: { ...process.env, ...env }, encoding: 'utf8' });
      const pwshDate = spawnSync(locatePowerShell().executable, ['-NoProfile', '-Command', "(Get-Date).ToUniversalTime().ToString('o')"], { env: { ...process.env, ...env }, encoding: 'utf8' });
      for (const out of [nodeDate.stdout, pwshDate.stdout]) expect(Date.parse(out.trim()) - LAB_SEEDED_AT.getTime()).toBeGreaterThan(300 * DAY);
      const r = await runCli(['diagnose', '-i', inventory, '--json', '--processes', '1'], { env });
      expect(r.code, r.stderr).toBe(1); // mk-corrupt has a finding
      expect({ shift, by: verdicts(JSON.parse(r.stdout).hosts as Verdict[]) }).toEqual({ shift, by: EXPECTED });
    }
  }, 240_000);

  it('host-side scripts read the time only through Get-Date, which the lab answers with the host clock', () => {
    const root = projectRoot();
    const files = ['playbooks', 'src/probe/ps', 'src/revert/ps'].flatMap((dir) =>
      (readdirSync(path.join(root, dir), { recursive: true }) as string[]).filter((f) => f.endsWith('.ps1')).map((f) => path.join(dir, f)));
    expect(files.length).toBeGreaterThan(10);
    const direct = /\[(System\.)?DateTime(Offset)?\]::(UtcNow|Now|Today)|\[Environment\]::TickCount/i;
    const hits = files.flatMap((f) =>
      readFileSync(path.join(root, f), 'utf8').split(/\r?\n/).map((line, i) => ({ f, i, line }))
        .filter(({ line }) => !line.trimStart().startsWith('#') && direct.test(line)).map(({ f, i, line }) => `${f}:${i + 1}: ${line.trim()}`));
    expect(hits, hits.join('\n')).toEqual([]);
  });
});
