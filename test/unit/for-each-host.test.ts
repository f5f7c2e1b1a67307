import { describe, it, expect } from 'vitest';
import { setImmediate as tick } from 'node:timers/promises';
import { forEachHost } from '../../src/engine/runner.js';

describe('forEachHost', () => {
  it('runs hosts `concurrency` at a time and returns their results in input order', async () => {
    let running = 0;
    let most = 0;
    const out = await forEachHost([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      most = Math.max(most, ++running);
      for (let i = 0; i < 8 - n; i++) await tick();
      running--;
      return n * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(most).toBe(3);
  });

  describe('when the work throws (the run failed: its journal cannot be made durable)', () => {
    it('starts no further host, waits for the hosts in flight, then throws the first error', async () => {
      const started: number[] = [];
      const finished: number[] = [];
      const run = forEachHost([1, 2, 3, 4, 5, 6], 2, async (n) => {
        started.push(n);
        for (let i = 0; i < (n === 2 ? 20 : 2); i++) await tick();
        finished.push(n);
        if (n === 3) throw new Error('journal not durable');
        return n;
      });
      await expect(run).rejects.toThrow('journal not durable');
      expect(started).toEqual([1, 2, 3]); // 4, 5, 6 never start
      expect(finished).toContain(2); // the host in flight ended before the error came out
    });
  });

  it('when told to stop starting (Ctrl-C), lets the items in flight finish and returns only theirs', async () => {
    let stop = false;
    const finished: number[] = [];
    const results = await forEachHost([1, 2, 3, 4, 5], 2, async (n) => {
      if (n === 2) stop = true;
      for (let i = 0; i < 5; i++) await tick();
      finished.push(n);
      return n * 10;
    }, () => !stop);
    expect(results).toEqual([10, 20]);
    expect(finished.sort()).toEqual([1, 2]);
  });
});
