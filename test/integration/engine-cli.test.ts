import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, summaryOf } from '../helpers/cli.js';
import { fixturePlaybooks } from '../helpers/engine.js';

const KEY = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\RdpfixTest';
let lab: string;
let state: string;
let inventory: string;
const pb = () => ['--playbooks', fixturePlaybooks(), '--state-dir', state];
const hostFile = (name: string) => path.join(lab, 'hosts', `${name}.json`);
const read = (name: string) => JSON.parse(readFileSync(hostFile(name), 'utf8'));

beforeAll(async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'rdpfix-ecli-'));
  lab = path.join(root, 'lab');
  state = path.join(root, 'state');
  inventory = path.join(lab, 'inventory.yaml');
  expect((await runCli(['lab', 'init', lab, '--hosts', '3', '--scenarios', 'healthy'])).code).toBe(0);
});

describe('plan / apply / runs / rollback through the CLI', () => {
  let runId: string;
  let pre: Record<string, unknown>;

  it('apply refuses to run without a terminal unless --yes', async () => {
    const r = await runCli(['apply', '-i', inventory, '-p', 'registry-values', ...pb()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/there is no terminal to ask on\.\n  Fix: Pass --yes/);
  });

  it('rejects an unknown playbook and a bad parameter before touching anything', async () => {
    const unknown = await runCli(['plan', '-i', inventory, '-p', 'nope', ...pb()]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown playbook 'nope'/);
    const bad = await runCli(['plan', '-i', inventory, '-p', 'registry-values', '--param', 'registry-values.alpha=x', ...pb()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/registry-values\.alpha must be a whole number \(got "x"\)/);
    const malformed = await runCli(['plan', '-i', inventory, '-p', 'registry-values', '--param', 'alpha', ...pb()]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/expected PLAYBOOK\.NAME=VALUE/);
  });

  it('applies with --yes and reports the run in JSON', async () => {
    pre = { 'lab-001': read('lab-001'), 'lab-002': read('lab-002'), 'lab-003': read('lab-003') };
    const r = await runCli(['apply', '-i', inventory, '-p', 'registry-values', '--yes', '--json', ...pb()]);
    expect(r.code, r.stderr).toBe(0);
    const doc = summaryOf(r.stdout);
    runId = doc.runId;
    expect(doc.hosts.map((h: { outcome: string }) => h.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(read('lab-002').registry[KEY].Gamma).toEqual({ kind: 'DWord', data: 3 });
  });

  it('lists and shows the run', async () => {
    const list = JSON.parse((await runCli(['runs', 'list', '--json', '--state-dir', state])).stdout).runs;
    expect(list.map((r: { runId: string }) => r.runId)).toContain(runId);
    const show = await runCli(['runs', 'show', runId, '--state-dir', state]);
    expect(show.stdout).toMatch(/lab-001\s+succeeded\s+registry-values\s+succeeded\s+set-alpha,set-beta,set-gamma/);
    const bad = await runCli(['runs', 'show', 'not-a-run', '--state-dir', state]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'not-a-run' is not a run id/);
  });

  it('rollback refuses a host whose state drifted, names the step, and undoes it only with --force', async () => {
    // Someone changes Beta on lab-002 after the run.
    const drifted = read('lab-002');
    drifted.registry[KEY].Beta = { kind: 'DWord', data: 99 };
    writeFileSync(hostFile('lab-002'), JSON.stringify(drifted, null, 2));
    const r = await runCli(['rollback', runId, '--json', ...pb()]);
    expect(r.code).toBe(1);
    const doc = summaryOf(r.stdout);
    const byHost = Object.fromEntries(doc.hosts.map((h: { host: string; outcome: string }) => [h.host, h]));
    expect(byHost['lab-001'].outcome).toBe('rolledBack');
    expect(byHost['lab-002'].outcome).toBe('rollbackRefused');
    expect(byHost['lab-002'].results['registry-values'].drift).toMatchObject({ step: 'set-beta' });
    expect(read('lab-001')).toEqual(pre['lab-001']);
    expect(read('lab-002').registry[KEY]).toEqual({ Alpha: { kind: 'DWord', data: 1 }, Beta: { kind: 'DWord', data: 99 } }); // gamma undone, beta and alpha left
    const forced = await runCli(['rollback', runId, '--host', 'lab-002', '--force', '--json', ...pb()]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(read('lab-002')).toEqual(pre['lab-002']);
  });

  it('refuses to roll back with a playbook that changed since the run', async () => {
    const copy = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-pbcopy-')), 'registry-values');
    mkdirSync(copy);
    for (const f of ['playbook.yaml', 'registry-values.ps1']) {
      writeFileSync(path.join(copy, f), readFileSync(path.join(fixturePlaybooks(), 'registry-values', f), 'utf8') + (f === 'registry-values.ps1' ? '\n# edited\n' : ''));
    }
    const r = await runCli(['rollback', runId, '--playbooks', path.dirname(copy), '--state-dir', state]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Playbook registry-values changed since run/);
  });
});

describe('bad input to rollback, resume and runs', () => {
  it('refuses to resume or roll back a plan, and reports a damaged journal with its line', async () => {
    const plan = summaryOf((await runCli(['plan', '-i', inventory, '-p', 'registry-values', '--json', ...pb()])).stdout);
    const resume = await runCli(['resume', plan.runId, ...pb()]);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toMatch(/was a plan; there is nothing to roll back or resume/);
    const journal = path.join(state, 'runs', plan.runId, 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"host-started"', '"host-startet"');
    writeFileSync(journal, lines.join('\n'));
    const show = await runCli(['runs', 'show', plan.runId, '--state-dir', state]);
    expect(show.code).toBe(2);
    expect(show.stderr).toMatch(/damaged at line 2: its checksum does not match/);
    const rollback = await runCli(['rollback', plan.runId, ...pb()]);
    expect(rollback.code).toBe(2);
    expect(rollback.stderr).toMatch(/damaged at line 2/);
  });
});

describe('playbooks commands', () => {
  it('show --graph prints a Mermaid state diagram of the playbook machine', async () => {
    const r = await runCli(['playbooks', 'show', 'registry-values', '--graph', '--playbooks', fixturePlaybooks()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^stateDiagram-v2/);
    for (const s of ['step1_checkpointing --> step1_applying', 'step3_verified --> finishing', 'failing --> rollingBack', 'rolledBack --> [*]']) expect(r.stdout).toContain(s);
  });

  it('validate accepts a good folder and names the file and field of a bad one', async () => {
    const ok = await runCli(['playbooks', 'validate', fixturePlaybooks()]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/4 playbook\(s\) valid: registry-values, revert-task-layer, revert-task-rule, temporary-value/);
    const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-badpb-'));
    mkdirSync(path.join(dir, 'broken'));
    writeFileSync(path.join(dir, 'broken', 'playbook.yaml'), 'id: broken\nversion: 1\ntitle: t\ndescription: d\ncauses: [x]\nrisk: low\nsteps: []\n');
    const bad = await runCli(['playbooks', 'validate', dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/broken\/playbook\.yaml: steps: Array must contain at least 1 element/);
  });
});
