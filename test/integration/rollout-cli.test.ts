import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';
import { runCli, summaryOf } from '../helpers/cli.js';

/** Starts `rdpfix apply`, sends SIGINT `times` times (1.5 s apart) once the first host has finished, and waits for the end. */
function applyInterrupted(args: string[], times: 1 | 2): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(projectRoot(), 'bin', 'rdpfix.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!sent && /lab-001: succeeded/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
        if (times === 2) setTimeout(() => child.kill('SIGINT'), 1500);
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function lab(hosts: number, slow: string[] = []) {
  const work = mkdtempSync(path.join(tmpdir(), 'rdpfix-interrupt-'));
  const dir = path.join(work, 'lab');
  expect((await runCli(['lab', 'init', dir, '--hosts', String(hosts), '--scenarios', 'rdp-disabled', '--seed', '6'])).code).toBe(0);
  for (const h of slow) {
    // Every remote call to this host takes 2 s more: it is still in flight when the second Ctrl-C comes.
    const file = path.join(dir, 'hosts', `${h}.json`);
    const state = JSON.parse(readFileSync(file, 'utf8'));
    state.faults.latencyMs = 2000;
    writeFileSync(file, JSON.stringify(state));
  }
  const denied = (h: string) => (JSON.parse(readFileSync(path.join(dir, 'hosts', `${h}.json`), 'utf8')) as { registry: Record<string, Record<string, { data: unknown }>> })
    .registry['HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server']!.fDenyTSConnections!.data;
  return { inventory: path.join(dir, 'inventory.yaml'), state: path.join(work, 'state'), denied };
}

describe('apply: Ctrl-C and rollout flags', () => {
  it('one Ctrl-C: no new host starts, the host in flight ends well, the run and the retry are named (exit 1)', async () => {
    const l = await lab(5);
    const r = await applyInterrupted(['apply', '-i', l.inventory, '-p', 'enable-remote-desktop', '--yes', '--concurrency', '1', '--processes', '1', '--state-dir', l.state], 1);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/stopping: no new host starts; hosts in flight finish or roll back/);
    const runId = /rdpfix apply --retry (\d{8}-\d{6}-[0-9a-f]{6})/.exec(r.stderr)?.[1];
    expect(runId, r.stderr).toBeDefined();
    const show = JSON.parse((await runCli(['runs', 'show', runId!, '--state-dir', l.state, '--json'])).stdout) as { hosts: Record<string, { state: string }> };
    const states = Object.fromEntries(Object.entries(show.hosts).map(([h, x]) => [h, x.state]));
    expect(states['lab-001']).toBe('succeeded');
    expect(r.stdout).toMatch(/lab-001\s+succeeded/); // the recap lists every host of the run
    const notReached = Object.keys(states).filter((h) => states[h] === 'not-reached');
    expect(notReached.length).toBeGreaterThanOrEqual(2);
    for (const h of notReached) expect(r.stdout).toMatch(new RegExp(`${h}\\s+not-reached`));
    for (const h of notReached) expect(l.denied(h), h).toBe(1); // never touched
    for (const h of Object.keys(states).filter((x) => states[x] === 'succeeded')) expect(l.denied(h), h).toBe(0);
    // The hosts never started run with --retry.
    const again = await runCli(['apply', '-i', l.inventory, '-p', 'enable-remote-desktop', '--yes', '--retry', runId!, '--processes', '1', '--state-dir', l.state, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect((summaryOf(again.stdout).hosts as { host: string }[]).map((h) => h.host).sort()).toEqual(notReached.sort());
  }, 180_000);

  it('two Ctrl-C: leaves at once (exit 130) and names resume, which finishes the run', async () => {
    const l = await lab(4, ['lab-002']);
    const r = await applyInterrupted(['apply', '-i', l.inventory, '-p', 'enable-remote-desktop', '--yes', '--concurrency', '1', '--processes', '1', '--state-dir', l.state], 2);
    expect(r.code, r.stderr).toBe(130);
    const runId = /rdpfix resume (\d{8}-\d{6}-[0-9a-f]{6})/.exec(r.stderr)?.[1];
    expect(runId, r.stderr).toBeDefined();
    const resumed = await runCli(['resume', runId!, '--processes', '1', '--state-dir', l.state, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const h of ['lab-001', 'lab-002', 'lab-003', 'lab-004']) expect(l.denied(h), h).toBe(0);
  }, 180_000);

  it('refuses bad rollout values before anything runs', async () => {
    const r = await runCli(['apply', '-i', '/nonexistent.yaml', '--yes', '--max-fail', '150%']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-fail.*percentage from 0% to 100%/);
    const s = await runCli(['apply', '-i', '/nonexistent.yaml', '--yes', '--serial', '0']);
    expect(s.code).toBe(2);
  });
});
