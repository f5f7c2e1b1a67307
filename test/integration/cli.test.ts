import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { SCENARIOS } from '../../src/lab/scenarios.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('rdpfix CLI', () => {
  it('prints help and version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: rdpfix/);
    for (const cmd of ['lab', 'probe']) expect(help.stdout).toContain(cmd);
    const version = await runCli(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('the installed command starts from its own first line, with the node flags it names', () => {
    // npm links bin/rdpfix.js as `rdpfix`: it runs through `#!/usr/bin/env -S node --max-semi-space-size=1`.
    const bin = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'bin', 'rdpfix.js');
    const hook = "--import=data:text/javascript,process.on('exit',()=>process.stderr.write('execArgv='+JSON.stringify(process.execArgv)))";
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: hook }, timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
    expect(JSON.parse(/execArgv=(.*)$/.exec(r.stderr)![1]!)).toEqual(['--max-semi-space-size=1']);
  });

  it('rejects unknown commands and bad flag values with exit code 2', async () => {
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-cli-'));
    const bad = await runCli(['lab', 'init', dir, '--hosts', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--hosts <n>' argument 'lots' is invalid/);
    const badScenario = await runCli(['lab', 'init', dir, '--scenarios', 'healthy,bogus']);
    expect(badScenario.code).toBe(2);
    expect(badScenario.stderr).toMatch(/Unknown scenario: bogus\.\n  Fix: Known scenarios:/);
    expect(existsSync(path.join(dir, 'inventory.yaml'))).toBe(false);
  });

  it('lab init writes every scenario; lab show prints them as a table and as JSON', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rdpfix-cli-')), 'lab');
    const init = await runCli(['lab', 'init', dir, '--hosts', String(SCENARIOS.length), '--seed', '3']);
    expect(init.code).toBe(0);
    const show = await runCli(['lab', 'show', dir]);
    expect(show.code).toBe(0);
    for (const s of SCENARIOS) expect(show.stdout).toContain(s);
    const one = await runCli(['lab', 'show', dir, 'lab-010', '--json']);
    const state = JSON.parse(one.stdout).host;
    expect(state.scenarios).toEqual(['rdp-disabled']);
    const missing = await runCli(['lab', 'show', dir, 'nosuch']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/No host 'nosuch'/);
  });

  it('reports a broken inventory with its file, field and a fix, exit code 2', async () => {
    const r = await runCli(['probe', '-i', '/nonexistent/inventory.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Cannot read inventory \/nonexistent\/inventory.yaml: ENOENT/);
  });
});
