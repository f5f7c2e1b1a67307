// Measuring a command's process tree, shared by the benchmarks: wall time, CPU time (bash's `times`, children reaped
// recursively: node and every PowerShell it started) and peak RSS (the largest sum of VmRSS over the tree, sampled
// every 50 ms).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Pids of `pid` and all its descendants, from /proc. */
export function tree(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch { /* gone */ }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

export const rssKiB = (pid) => {
  try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0); } catch { return 0; }
};

/**
 * Runs a command under bash (whose `times` gives the tree's CPU), sampling the tree's RSS. Its stdout and stderr go
 * to a log file (`o.logFile`, else a temp file), returned as `log`, or with `o.keepLog` left in place and named `logFile`.
 */
export function measure(argv, o = {}) {
  const out = o.logFile ?? path.join(tmpdir(), `rdpfix-bench-${process.pid}.log`);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('bash', ['-c', '"$@" >"$OUT" 2>&1; code=$?; times >&3; exit $code', 'bench', ...argv], {
      stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
      env: { ...process.env, ...(o.env ?? {}), OUT: out },
    });
    let peak = 0;
    // Also the peaks of the measured command's own process (bash's child: node for rdpfix) and of its descendants
    // (PowerShell), each on its own: they tell which side a change in the tree's peak comes from.
    let rootPeak = 0;
    let restPeak = 0;
    const timer = setInterval(() => {
      const [, root, ...rest] = tree(child.pid);
      const r = root === undefined ? 0 : rssKiB(root);
      const d = rest.reduce((sum, p) => sum + rssKiB(p), 0);
      peak = Math.max(peak, rssKiB(child.pid) + r + d);
      rootPeak = Math.max(rootPeak, r);
      restPeak = Math.max(restPeak, d);
    }, 50);
    let times = '';
    child.stdio[3].on('data', (d) => (times += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      const wall = (performance.now() - started) / 1000;
      const secs = (t) => { const m = /(\d+)m([\d.]+)s/.exec(t); return m ? Number(m[1]) * 60 + Number(m[2]) : 0; };
      const [, childLine = ''] = times.trim().split('\n');
      const cpu = childLine.trim().split(/\s+/).reduce((s, t) => s + secs(t), 0);
      const peaks = { peakMiB: peak / 1024, rootPeakMiB: rootPeak / 1024, childrenPeakMiB: restPeak / 1024 };
      if (o.keepLog) return resolve({ code, wall, cpu, ...peaks, logFile: out });
      const log = readFileSync(out, 'utf8');
      rmSync(out, { force: true });
      resolve({ code, wall, cpu, ...peaks, log });
    });
  });
}

export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

/**
 * The argv that starts rdpfix as its installed command does: this node, with the node flags of bin/rdpfix.js's
 * `#!/usr/bin/env -S node …` line (npm's command shims pass them on), then the file.
 */
export function rdpfixCommand(root) {
  const bin = path.join(root, 'bin', 'rdpfix.js');
  const shebang = readFileSync(bin, 'utf8').split('\n', 1)[0];
  const flags = /^#!\/usr\/bin\/env -S node((?: --[\w-]+(?:=\S+)?)*)\s*$/.exec(shebang)?.[1].trim().split(/\s+/).filter(Boolean);
  if (!flags) throw new Error(`${bin}: its first line is not '#!/usr/bin/env -S node [--flags]' (${shebang})`);
  return [process.execPath, ...flags, bin];
}
