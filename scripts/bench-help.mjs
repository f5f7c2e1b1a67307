#!/usr/bin/env node
// `npm run bench:help [-- N]`: wall time of `rdpfix --help` and every `rdpfix <cmd> --help` (N runs each, default 10),
// median and p90, then the import time of the packages that used to make help slow. Needs `npm run build` first.
// Timings depend on machine load: note `uptime` next to any figure.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'rdpfix.js');
const runs = Number(process.argv[2] ?? 10);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a whole number ≥ 1, got '${process.argv[2]}'`);

const { buildProgram } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'cli', 'main.js')).href);
const commands = [[], ...buildProgram().commands.map((c) => [c.name()])];

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
const row = (label, xs) => console.log(`${label.padEnd(28)} median ${quantile(xs, 0.5).toFixed(0).padStart(5)} ms   p90 ${quantile(xs, 0.9).toFixed(0).padStart(5)} ms`);

console.log(`rdpfix help, ${runs} runs each (load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')})`);
for (const args of commands) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [bin, ...args, '--help'], { stdio: 'ignore' });
    times.push(ms(t0));
    if (r.status !== 0) throw new Error(`rdpfix ${[...args, '--help'].join(' ')} exited ${r.status}`);
  }
  row(`rdpfix ${[...args, '--help'].join(' ')}`, times);
}

console.log('\nimport time, each package alone in a fresh node (median):');
for (const pkg of ['conf', 'yaml', 'xstate', 'node-powershell', 'zod', 'commander']) {
  const times = [];
  for (let i = 0; i < Math.min(runs, 5); i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const t=performance.now(); await import(${JSON.stringify(pkg)}); console.log(performance.now()-t)`], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`importing ${pkg} failed: ${r.stderr}`);
    times.push(Number(r.stdout.trim()));
  }
  row(`  ${pkg}`, times);
}
