import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';

/** npm run bench:fanout's flags: a bad one is one line on stderr and exit 2, before any lab is built or anything run. */
const bench = (args: string[]) => spawnSync(process.execPath, [path.join(projectRoot(), 'scripts', 'bench-vs-powershell.mjs'), ...args], { encoding: 'utf8', timeout: 60_000 });

describe('bench:fanout flags', () => {
  it.each([
    [['--fanout-pgo', 'maybe'], /^bench:fanout: --fanout-pgo is default or off, not "maybe"$/],
    [['--fanout-pgo', 'off\nround 1 rdpfix wall 1 s'], /^bench:fanout: --fanout-pgo is default or off, not "off\\nround 1 rdpfix wall 1 s"$/],
    [['--mode', 'plan'], /^bench:fanout: --mode is apply or diagnose, not "plan"$/],
    [['--playbook', '__proto__'], /^bench:fanout: --playbook must be one of enable-remote-desktop, /],
    [['--playbook', '../../etc/passwd'], /^bench:fanout: --playbook must be one of /],
    [['--hosts', '0'], /^bench:fanout: --hosts takes a whole number ≥ 1, not "0"$/],
    [['--hosts', '1e3'], /^bench:fanout: --hosts takes a whole number ≥ 1, not "1e3"$/],
    [['--rounds=-1'], /^bench:fanout: --rounds takes a whole number ≥ 1, not "-1"$/],
    [['--rounds', '-1'], /^bench:fanout: Option '--rounds' argument is ambiguous/],
    [['--throttle', '2; rm -rf /'], /^bench:fanout: --throttle takes a whole number ≥ 1, not "2; rm -rf \/"$/],
    [['--processes', ''], /^bench:fanout: --processes takes a whole number ≥ 1, not ""$/],
    [['--bogus'], /^bench:fanout: Unknown option '--bogus'/],
    [['--hosts'], /^bench:fanout: Option '--hosts <value>' argument missing/],
  ])('%j: exit 2, one clear line, nothing run', (args, message) => {
    const r = bench(args);
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });
});
