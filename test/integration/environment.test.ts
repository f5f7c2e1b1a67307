import { describe, it, expect } from 'vitest';
import { startBroker } from '../../src/powershell/environment.js';

/** The controller's environment is checked before any host: each problem is a config error (exit 3) with its fix. */
describe('environment check', () => {
  it('no PowerShell, or one that cannot start: a config error, not a host failure', async () => {
    await expect(startBroker({ pwsh: '/nonexistent/pwsh', processes: 1, targets: [] })).rejects.toMatchObject({ kind: 'config', message: expect.stringMatching(/does not exist/) });
    if (process.platform === 'win32') return;
    await expect(startBroker({ pwsh: '/bin/false', processes: 1, targets: [] })).rejects.toMatchObject({ kind: 'config', message: expect.stringMatching(/PowerShell \/bin\/false cannot start/), fix: expect.stringMatching(/--pwsh/) });
  }, 180_000);

  it('a working PowerShell starts, one process of the pool, and answers', async () => {
    const broker = await startBroker({ processes: 2, targets: [{ kind: 'lab', host: 'x', statePath: '/nonexistent.json' }] });
    try {
      expect(broker.pids.filter(Boolean)).toHaveLength(1);
      const r = await broker.invoke({ kind: 'local', host: 'controller' }, '1 + 1');
      expect(r.ok && r.data.output).toEqual([2]);
    } finally {
      await broker.close();
    }
  }, 180_000);
});
