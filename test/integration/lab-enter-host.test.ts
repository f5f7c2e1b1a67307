/**
 * Issue 10 item 3, the lab's own side: Enter-LabHost checks that the state file exists before it takes the
 * lock, so a missing file leaves no stray .lock and a missing folder fails at once instead of waiting out
 * the lock timeout and then blaming "another process".
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runLab } from '../helpers/lab.js';

describe('Enter-LabHost', () => {
  it('refuses a missing state file or folder at once, creating no lock', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-enter-'));
    for (const statePath of [path.join(dir, 'none.json'), path.join(dir, 'nodir', 'x.json')]) {
      const started = Date.now();
      await expect(runLab(statePath, '"never"')).rejects.toThrow(/Lab host state '.*' does not exist\./);
      expect(Date.now() - started).toBeLessThan(25_000);
    }
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(path.join(dir, 'none.json.lock'))).toBe(false);
  }, 120_000);
});
