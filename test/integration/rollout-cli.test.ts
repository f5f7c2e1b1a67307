import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';
import { runCli, summaryOf } from '../helpers/cli.js';

/** Starts `rdpfix apply`, sends SIGINT `times` times (1.5 s apart) once stderr shows `when`, and waits for the end. */
function applyInterrupted(args: string[], times: 1 | 2, when = /lab-001: succeeded/): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(projectRoot(), 'bin', 'rdpfix.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!sent && when.test(stderr)) {
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
  it('one Ctrl-C: no new host or step starts, the step in flight ends well, the run, resume and retry are named (exit 4 or 1)', async () => {
    const l = await lab(5);
    const r = await applyInterrupted(['apply', '-i', l.inventory, '-p', 'enable-remote-desktop', '--yes', '--concurrency', '1', '--processes', '1', '--state-dir', l.state], 1);
    expect(r.stderr).toMatch(/stopping: no new host starts; hosts in flight finish or roll back their step in flight, then start no further step/);
    const runId = /rdpfix apply --retry (\d{8}-\d{6}-[0-9a-f]{6})/.exec(r.stderr)?.[1];
    expect(runId, r.stderr).toBeDefined();
    expect(r.stderr).toContain(`rdpfix resume ${runId}`);
    const show = JSON.parse((await runCli(['runs', 'show', runId!, '--state-dir', l.state, '--json'])).stdout) as { hosts: Record<string, { state: string }> };
    const states = Object.fromEntries(Object.entries(show.hosts).map(([h, x]) => [h, x.state]));
    expect(states['lab-001']).toBe('succeeded');
    // lab-002 had started when Ctrl-C came: stopped before its one step (exit 4: resume), or its step was in flight and
    // finished (exit 1: hosts never started). Either way no host ends half-done.
    expect(['stopped', 'succeeded']).toContain(states['lab-002']);
    expect(r.code, r.stderr).toBe(states['lab-002'] === 'stopped' ? 4 : 1);
    expect(r.stdout).toMatch(/lab-001\s+succeeded/); // the recap lists every host of the run
    const notReached = Object.keys(states).filter((h) => states[h] === 'not-reached');
    expect(notReached.length).toBeGreaterThanOrEqual(2);
    for (const h of notReached) expect(r.stdout).toMatch(new RegExp(`${h}\\s+not-reached`));
    for (const h of notReached) expect(l.denied(h), h).toBe(1); // never touched
    for (const h of Object.keys(states).filter((x) => states[x] === 'succeeded')) expect(l.denied(h), h).toBe(0);
    if (states['lab-002'] === 'stopped') {
      expect(l.denied('lab-002')).toBe(1);
      // --retry would start a stopped host over: it refuses and names resume, which finishes it and the hosts never started.
      const retry = await runCli(['apply', '-i', l.inventory, '-p', 'enable-remote-desktop', '--yes', '--retry', runId!, '--processes', '1', '--state-dir', l.state]);
      expect(retry.code, retry.stderr).toBe(2);
      expect(retry.stderr).toMatch(/lab-002 \(stopped\) must be settled first/);
      const resumed = await runCli(['resume', runId!, '--processes', '1', '--state-dir', l.state, '--json']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect((summaryOf(resumed.stdout).hosts as { host: string }[]).map((h) => h.host).sort()).toEqual(['lab-002', ...notReached].sort());
    } else {
      // The hosts never started run with --retry.
      const again = await runCli(['apply', '-i', l.inventory, '-p', 'enable-remote-desktop', '--yes', '--retry', runId!, '--processes', '1', '--state-dir', l.state, '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect((summaryOf(again.stdout).hosts as { host: string }[]).map((h) => h.host).sort()).toEqual(notReached.sort());
    }
    for (const h of Object.keys(states)) expect(l.denied(h), h).toBe(0);
  }, 180_000);

  it('two Ctrl-C: leaves at once (exit 130) and names resume, which finishes the run', async () => {
    const l = await lab(4, ['lab-002']);
    // Ctrl-C once lab-002's step is applied: its verify (2 s a call) is still in flight when the second comes.
    const r = await applyInterrupted(['apply', '-i', l.inventory, '-p', 'enable-remote-desktop', '--yes', '--concurrency', '1', '--processes', '1', '--state-dir', l.state], 2, /lab-002 \/ enable-remote-desktop \/ allow-connections: applied/);
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
