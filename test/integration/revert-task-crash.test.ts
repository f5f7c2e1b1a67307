import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, summaryOf } from '../helpers/cli.js';
import { fixturePlaybooks } from '../helpers/engine.js';
import { projectRoot } from '../../src/paths.js';
import type { LabHostState } from '../../src/lab/state.js';

/**
 * The controller dies right after a revert task is armed (SIGKILL the moment `revert-task-armed` reaches the journal:
 * the change may or may not have been made). Whatever the moment, resume finishes the run and removes the task;
 * rollback restores the host exactly; and a host nobody comes back to restores itself when the TTL has passed.
 */
async function killedAfterArm() {
  const root = mkdtempSync(path.join(tmpdir(), 'rdpfix-gcrash-'));
  const lab = path.join(root, 'lab');
  const stateDir = path.join(root, 'state');
  expect((await runCli(['lab', 'init', lab, '--hosts', '1', '--scenarios', 'healthy', '--seed', '3'])).code).toBe(0);
  const inventory = path.join(lab, 'inventory.yaml');
  const hostFile = path.join(lab, 'hosts', 'lab-001.json');
  const pre = JSON.parse(readFileSync(hostFile, 'utf8')) as LabHostState;
  const child = spawn(process.execPath, [path.join(projectRoot(), 'bin', 'rdpfix.js'), 'apply', '-i', inventory, '-p', 'revert-task-rule', '--playbooks', fixturePlaybooks(), '--yes', '--json', '--state-dir', stateDir, '--processes', '1'], { stdio: 'ignore' });
  const runs = path.join(stateDir, 'runs');
  const runId = await new Promise<string>((resolve, reject) => {
    const deadline = Date.now() + 120_000;
    const poll = setInterval(() => {
      // A run folder is born as `.new-…` and renamed into place: read only named ones, and a journal may still vanish.
      const id = existsSync(runs) ? readdirSync(runs).find((n) => !n.startsWith('.')) : undefined;
      let journal = '';
      try {
        journal = id ? readFileSync(path.join(runs, id, 'journal.jsonl'), 'utf8') : '';
      } catch {
        journal = '';
      }
      if (id && journal.includes('"type":"revert-task-armed"')) {
        child.kill('SIGKILL');
        clearInterval(poll);
        resolve(id);
      } else if (Date.now() > deadline) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error('the revert task was never armed'));
      }
    }, 5);
  });
  await new Promise((r) => child.once('exit', r));
  const host = () => JSON.parse(readFileSync(hostFile, 'utf8')) as LabHostState;
  expect(host().scheduledTasks.some((t) => t.TaskPath === '\\rdpfix\\')).toBe(true); // the revert task is on the host
  const cli = (args: string[]) => runCli([...args, '--playbooks', fixturePlaybooks(), '--state-dir', stateDir, '--json', '--processes', '1']);
  return { pre, host, runId, inventory, cli };
}

const taskLeft = (s: LabHostState) => s.scheduledTasks.some((t) => t.TaskPath === '\\rdpfix\\') || Object.keys(s.files).some((p) => /\\ProgramData\\rdpfix/i.test(p));
const udpRule = (s: LabHostState) => s.firewall.rules.find((r) => r.Name === 'RemoteDesktop-UserMode-In-UDP')!.Enabled;

describe('revert task when the controller dies', () => {
  it('resume confirms the change and removes the task; a later rollback restores the host exactly', async () => {
    const { pre, host, runId, cli } = await killedAfterArm();
    const resumed = await cli(['resume', runId]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(summaryOf(resumed.stdout).hosts[0].outcome).toBe('succeeded');
    expect(udpRule(host())).toBe('False');
    expect(taskLeft(host())).toBe(false);
    expect((await cli(['rollback', runId])).code).toBe(0);
    expect(host()).toEqual(pre);
  }, 240_000);

  it('nobody comes back: after the TTL the host restores itself; rollback then only clears the task folder', async () => {
    const { pre, host, runId, inventory, cli } = await killedAfterArm();
    const advanced = await runCli(['lab', 'advance', '11m', '-i', inventory, '--json', '--processes', '1']);
    expect(JSON.parse(advanced.stdout).hosts[0].fired).toEqual([expect.objectContaining({ result: 0, unregistered: true })]);
    const reverted = host();
    expect(udpRule(reverted)).toBe('True');
    expect(reverted.scheduledTasks).toEqual(pre.scheduledTasks);
    const back = await cli(['rollback', runId]);
    expect(back.code, back.stderr).toBe(0);
    expect(host()).toEqual(pre);
  }, 240_000);
});
