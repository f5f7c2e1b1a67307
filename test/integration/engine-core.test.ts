import { describe, it, expect, beforeAll, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { projectRoot } from '../../src/paths.js';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, summaryOf } from '../helpers/cli.js';
import { fixturePlaybooks } from '../helpers/engine.js';
import { leaseFile } from '../../src/journal/leases.js';
import { newRunId } from '../../src/journal/journal.js';
import { defaultProcesses } from '../../src/config/settings.js';

/**
 * What users saw on main (7ef7099), issue 9, each through the CLI as a user would: rollback read as INCOMPLETE,
 * resume of a rolled-back run "succeeded", two runs on one host, settings each command resolved its own way,
 * damaged journals treated as crashes, environment problems reported as host failures.
 */
// Each test runs the CLI several times; each start of PowerShell takes seconds on a loaded machine.
vi.setConfig({ testTimeout: 400_000, hookTimeout: 120_000 });
const KEY = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\RdpfixTest';
let root: string;
let lab: string;
let inventory: string;
let configDir: string;
const hostFile = (name: string) => path.join(lab, 'hosts', `${name}.json`);
const read = (name: string) => readFileSync(hostFile(name), 'utf8');
/** A config of its own, so nothing leaks in from the user running the tests. */
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { env: { RDPFIX_CONFIG_DIR: configDir, RDPFIX_STATE_DIR: '', ...env }, timeoutMs: 300_000 });
const pb = ['--playbooks', fixturePlaybooks()];

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'rdpfix-core-'));
  lab = path.join(root, 'lab');
  inventory = path.join(lab, 'inventory.yaml');
  configDir = path.join(root, 'config');
  mkdirSync(configDir);
  expect((await cli(['lab', 'init', lab, '--hosts', '2', '--scenarios', 'healthy'])).code).toBe(0);
});

describe('environment problems exit 3 before any host is touched', () => {
  it('probe and diagnose take --pwsh, and honour the config pwsh (main: --pwsh rejected, config ignored)', async () => {
    const before = read('lab-001');
    const flag = await cli(['probe', '-i', inventory, '--pwsh', '/nonexistent/pwsh']);
    expect(flag.code, flag.stderr).toBe(3);
    expect(flag.stderr).toMatch(/PowerShell executable '\/nonexistent\/pwsh' .* does not exist/);
    const state = path.join(root, 'cfg-state');
    expect((await cli(['config', 'set', 'pwsh', '/nonexistent/from-config'])).code).toBe(0);
    const fromConfig = await cli(['diagnose', '-i', inventory, '--state-dir', state]);
    expect(fromConfig.code, fromConfig.stderr).toBe(3);
    expect(fromConfig.stderr).toMatch(/\/nonexistent\/from-config/);
    const origin = await cli(['config', 'list', '--origin']);
    expect(origin.stdout).toMatch(/^pwsh = "\/nonexistent\/from-config"  \(config: .*config\.json\)$/m);
    expect(origin.stdout).toMatch(new RegExp(`^processes = ${defaultProcesses()}  \\(default\\)$`, 'm'));
    expect((await cli(['config', 'list', '--origin'], { RDPFIX_PROCESSES: '5' })).stdout).toMatch(/^processes = 5  \(env: RDPFIX_PROCESSES\)$/m);
    expect((await cli(['config', 'unset', 'pwsh'])).code).toBe(0);
    expect(read('lab-001')).toBe(before);
  });

  it('a PowerShell that cannot start is an environment problem, not failed hosts', async () => {
    const r = await cli(['apply', '-i', inventory, '-p', 'registry-values', '--yes', '--pwsh', '/bin/false', ...pb, '--state-dir', path.join(root, 'nostart')]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/PowerShell \/bin\/false cannot start/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('WinRM hosts on a controller without a WSMan client library: exit 3 with the fix, not "unreachable"', async () => {
    if (process.platform === 'win32') return;
    const inv = path.join(root, 'winrm.yaml');
    writeFileSync(inv, 'version: 1\nhosts:\n  - name: win1\n    transport: { kind: winrm }\n');
    // The provisioned pwsh ships none; where one is installed (PSWSMan, or on the loader's path) this check does not apply.
    const tools = path.join(projectRoot(), '.tools', 'pwsh');
    const inTools = existsSync(tools) && (readdirSync(tools, { recursive: true }) as string[]).some((f) => /libpsrpclient\.(so|dylib)$/.test(String(f)));
    const onLoaderPath = /libpsrpclient/.test(spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '');
    if (inTools || onLoaderPath) return;
    const r = await cli(['probe', '-i', inv]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/no WSMan client library[\s\S]*Fix: Install one into that PowerShell/);
    expect(r.stdout).toBe('');
  });
});

describe('one state dir for every command', () => {
  it('config stateDir is where apply writes and where runs list/show look (main: runs looked in the default folder)', async () => {
    const state = path.join(root, 'configured-state');
    expect((await cli(['config', 'set', 'stateDir', state])).code).toBe(0);
    try {
      const plan = await cli(['plan', '-i', inventory, '-p', 'registry-values', '--json', ...pb]);
      expect(plan.code, plan.stderr).toBe(0);
      const runId = summaryOf(plan.stdout).runId;
      expect(readdirSync(path.join(state, 'runs'))).toEqual([runId]);
      const list = await cli(['runs', 'list', '--json']);
      expect(JSON.parse(list.stdout).runs.map((r: { runId: string }) => r.runId)).toEqual([runId]);
      expect((await cli(['runs', 'show', runId])).code).toBe(0);
      if (process.platform !== 'win32') expect(statSync(state).mode & 0o777).toBe(0o700);
    } finally {
      await cli(['config', 'unset', 'stateDir']);
    }
  });
});

describe('host leases', () => {
  it('a host another live run holds is refused: exit 2 when nothing else can run, nothing changed', async () => {
    const state = path.join(root, 'lease-state');
    const before = read('lab-001');
    const file = leaseFile(state, `lab:${hostFile('lab-001')}`);
    mkdirSync(path.dirname(file), { recursive: true });
    // This test's own process: alive, on this controller.
    writeFileSync(file, JSON.stringify({ pid: process.pid, controller: hostname(), started: '2026-11-25T22:15:00Z', runId: '20261125-221500-a1b2c3' }));
    const r = await cli(['apply', '-i', inventory, '-p', 'registry-values', '--hosts', 'lab-001', '--yes', '--wait-lock', '1', ...pb, '--state-dir', state]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`in use by another run: lab-001 \\(process ${process.pid} on ${hostname()} \\(run 20261125-221500-a1b2c3\\)`));
    expect(read('lab-001')).toBe(before);
    expect(readdirSync(state)).toEqual(['leases']);

    // With another host free, that one runs; the held one is reported, and the exit code says not all ran.
    const both = await cli(['apply', '-i', inventory, '-p', 'registry-values', '--yes', '--json', ...pb, '--state-dir', state]);
    expect(both.code, both.stderr).toBe(1);
    const doc = summaryOf(both.stdout);
    expect(doc.hosts.map((h: { host: string; state: string }) => [h.host, h.state])).toEqual([['lab-002', 'succeeded']]);
    expect(doc.refused).toMatchObject([{ host: 'lab-001', holder: { pid: process.pid } }]);
    expect(read('lab-001')).toBe(before);

    // A lease whose process is gone (a killed controller) is taken over, and the run says so.
    writeFileSync(file, JSON.stringify({ pid: 999_999_999, controller: hostname(), started: '2026-11-25T22:15:00Z' }));
    const taken = await cli(['apply', '-i', inventory, '-p', 'registry-values', '--hosts', 'lab-001', '--yes', ...pb, '--state-dir', state]);
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stderr).toMatch(/lab-001: took over the lease of process 999999999/);
    expect(JSON.parse(read('lab-001')).registry[KEY].Gamma).toEqual({ kind: 'DWord', data: 3 });
  });
});

describe('run states after rollback, and damaged journals', () => {
  let state: string;
  let runId: string;
  beforeAll(() => {
    state = path.join(root, 'rb-state');
  });

  it('after rollback: runs list says rolled back, runs show rolled-back hosts, resume does nothing and says so', async () => {
    const inv2 = path.join(root, 'lab2');
    expect((await cli(['lab', 'init', inv2, '--hosts', '1', '--scenarios', 'healthy'])).code).toBe(0);
    const host = () => JSON.parse(readFileSync(path.join(inv2, 'hosts', 'lab-001.json'), 'utf8'));
    const before = host();
    const apply = await cli(['apply', '-i', path.join(inv2, 'inventory.yaml'), '-p', 'registry-values', '--yes', '--json', ...pb, '--state-dir', state]);
    expect(apply.code, apply.stderr).toBe(0);
    runId = summaryOf(apply.stdout).runId;
    const back = await cli(['rollback', runId, ...pb, '--state-dir', state]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/lab-001\s+rolled-back/);
    expect(host()).toEqual(before);
    const list = await cli(['runs', 'list', '--state-dir', state]);
    expect(list.stdout).toMatch(new RegExp(`${runId} .* rolled back\\s+rolled-back:1`));
    expect(list.stdout).not.toMatch(/INCOMPLETE|INTERRUPTED/);
    const show = await cli(['runs', 'show', runId, '--state-dir', state]);
    expect(show.stdout).toMatch(/lab-001\s+rolled-back\s+registry-values\s+rolledBack/);
    const resume = await cli(['resume', runId, ...pb, '--state-dir', state]);
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stdout).toMatch(/was rolled back; there is nothing to resume/);
    expect(host()).toEqual(before);
  });

  it('a 0-byte journal is damage for every command (exit 2), and runs list still lists the other runs', async () => {
    const empty = newRunId(new Date('2026-11-26T00:00:00Z'));
    mkdirSync(path.join(state, 'runs', empty));
    writeFileSync(path.join(state, 'runs', empty, 'journal.jsonl'), '');
    for (const args of [['runs', 'show', empty], ['rollback', empty, ...pb], ['resume', empty, ...pb]]) {
      const r = await cli([...args, '--state-dir', state]);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/is damaged: it is empty \(0 bytes\)/);
    }
    const list = await cli(['runs', 'list', '--state-dir', state]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${empty}.*DAMAGED`));
    expect(list.stdout).toMatch(new RegExp(`${runId} .*rolled back`));
  });

  it('a complete last line that was altered is damage: rollback refuses it and leaves the file as it is', async () => {
    const journal = path.join(state, 'runs', runId, 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8').split('\n');
    const last = lines.length - 2;
    lines[last] = lines[last]!.replace('"rollback-finished"', '"rollback-finishes"');
    writeFileSync(journal, lines.join('\n'));
    const altered = readFileSync(journal, 'utf8');
    const r = await cli(['rollback', runId, ...pb, '--state-dir', state]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`damaged at line ${last + 1}: its checksum does not match`));
    expect(readFileSync(journal, 'utf8')).toBe(altered);
  });
});
