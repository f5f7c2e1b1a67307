import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/paths.js';

// A small version of scripts/crash-test.mjs (the full one: 50+ trials on 20 hosts, see docs/engine.md).
describe('crash test (small)', () => {
  it('after SIGKILL of apply at random moments, rollback restores and resume completes every host; two applies at once do not both work on a host', () => {
    const r = spawnSync(process.execPath, [path.join(projectRoot(), 'scripts', 'crash-test.mjs'), '--trials', '2', '--hosts', '4', '--seed', '11', '--contend', '1', '--json'], {
      encoding: 'utf8',
      timeout: 280_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const { summary, results } = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ trials: 2, contention: 1, failed: 0 });
    expect(results.map((x: { action: string }) => x.action)).toEqual(['rollback', 'resume']);
    expect(summary.killedMidRun).toBeGreaterThanOrEqual(1);
  }, 300_000);
});
