// Drives the listr2 view (built, dist/) with the events of a synthetic fleet run: HOSTS hosts, 32 at a time, one
// failing in ten. Used through a pseudo-terminal by test/integration/progress-pty.test.ts.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { ListrView } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'cli', 'views', 'listr.js')).href);
const { EventStream } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'engine', 'events.js')).href);

const count = Number(process.env.HOSTS ?? 300);
const names = Array.from({ length: count }, (_, i) => `host-${String(i + 1).padStart(3, '0')}`);
const view = new ListrView(process.stderr);
const s = new EventStream().subscribe(view.listener);
const tick = () => new Promise((r) => setTimeout(r, 2));
s.emit({ type: 'run-started', runId: '20310506-070809-abcdef', mode: 'apply', hosts: names });
for (let i = 0; i < names.length; i += 32) {
  const wave = names.slice(i, i + 32);
  for (const h of wave) {
    s.emit({ type: 'host-started', host: h, playbooks: ['restart-termservice'] });
    s.emit({ type: 'step-phase-started', host: h, playbook: 'restart-termservice', step: 'restart', phase: 'apply' });
  }
  await tick();
  for (const [j, h] of wave.entries()) {
    const failed = (i + j) % 10 === 9;
    if (!failed) s.emit({ type: 'step-verified', host: h, playbook: 'restart-termservice', step: 'restart', reconciled: false });
    s.emit({ type: 'host-finished', host: h, outcome: failed ? 'rolledBack' : 'succeeded', failed: failed ? 'restart-termservice' : null });
  }
}
s.emit({ type: 'run-finished', outcomes: {} });
await view.close();
process.stdout.write('VIEW CLOSED\n');
