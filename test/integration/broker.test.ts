import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Broker } from '../../src/index.js';
import type { Envelope } from '../../src/index.js';
import { makeLabHost } from '../helpers/lab.js';
import { hostileStrings } from '../fixtures/hostile-strings.js';
import { projectRoot } from '../../src/paths.js';

const local = { kind: 'local' as const, host: 'controller' };

function ok(e: Envelope) {
  if (!e.ok) throw new Error(`expected success, got ${e.error.category}: ${e.error.message}`);
  return e.data;
}

describe('broker round trips', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = new Broker({ processes: 1, runspaces: 8 });
    await broker.start();
  });
  afterAll(() => broker.close());

  it("runs PowerShell with .NET's dynamic PGO off (docs/performance.md)", async () => {
    expect(ok(await broker.invoke(local, '$env:DOTNET_TieredPGO')).output).toEqual(['0']);
  });

  it('passes arguments in and returns output values as JSON', async () => {
    const d = ok(await broker.invoke(local, 'param($a, $b, $c) $a; $b + 1; $c.name; $c.list.Count', ['text', 41, { name: 'n', list: [1, 2, 3] }]));
    expect(d.output).toEqual(['text', 42, 'n', 3]);
  });

  it("answers as Windows PowerShell 5.1 on a lab host (array Count alias, ConvertFrom-Json not enumerating), as pwsh 7 locally", async () => {
    // The way our scripts used to build arrays: a function returning `, $list.ToArray()` piped on, and a JSON
    // array read with `$text | ConvertFrom-Json`. On 5.1 both reach ConvertTo-Json as one object.
    const script = `
      function Get-Names { $l = New-Object System.Collections.Generic.List[string]; $l.Add('b'); $l.Add('a'); return , $l.ToArray() }
      $names = Get-Names | Sort-Object
      $rules = '[{"n":1},{"n":2}]' | ConvertFrom-Json
      $dated = ConvertFrom-Json -InputObject '{"at":"2026-11-25T10:00:00Z"}'
      ConvertTo-Json -InputObject ([ordered]@{ names = $names; rules = $rules; piped = @('[1,2,3]' | ConvertFrom-Json).Count; at = $dated.at.GetType().Name }) -Compress`;
    const host = makeLabHost();
    const lab = JSON.parse(String(ok(await broker.invoke({ kind: 'lab', host: 'lab-001', statePath: host.statePath }, script)).output[0]));
    expect(lab).toEqual({ names: { value: ['b', 'a'], Count: 2 }, rules: { value: [{ n: 1 }, { n: 2 }], Count: 2 }, piped: 1, at: 'String' });
    const seven = JSON.parse(String(ok(await broker.invoke(local, script)).output[0]));
    expect(seven).toEqual({ names: ['b', 'a'], rules: [{ n: 1 }, { n: 2 }], piped: 3, at: 'DateTime' });
  });

  it('keeps no record of past exchanges (child-shell\'s history would grow with every call of a fleet)', async () => {
    for (let i = 0; i < 5; i++) ok(await broker.invoke(local, 'param($i) $i', [i]));
    const shells = (broker as unknown as { workers: { shell?: { history: unknown[] } }[] }).workers.map((w) => w.shell);
    expect(shells.length).toBeGreaterThan(0);
    for (const shell of shells) expect(shell!.history).toEqual([]);
  });

  it('keeps warnings, verbose, information, progress and non-terminating errors out of the output', async () => {
    const script = `
      Write-Warning 'careful'
      Write-Verbose 'details' -Verbose
      Write-Information 'fyi'
      Write-Progress -Activity 'copying' -Status 'half' -PercentComplete 50
      Write-Error 'not fatal' -ErrorAction Continue
      'result'`;
    const d = ok(await broker.invoke(local, script));
    expect(d.output).toEqual(['result']);
    expect(d.streams.warning).toEqual(['careful']);
    expect(d.streams.verbose).toEqual(['details']);
    expect(d.streams.information).toEqual(['fyi']);
    expect(d.streams.progress).toEqual([{ activity: 'copying', status: 'half', percent: 50 }]);
    expect(d.streams.error).toHaveLength(1);
    expect(d.streams.error[0]!.message).toBe('not fatal');
  });

  it('reports a script that throws as a script error with its message and FQID', async () => {
    const e = await broker.invoke(local, "throw [System.InvalidOperationException]::new('step failed')");
    expect(e.ok).toBe(false);
    if (e.ok) return;
    expect(e.error.category).toBe('script');
    expect(e.error.message).toBe('step failed');
    expect(e.error.origin).toBe('script');
  });

  it("runs with ErrorActionPreference 'Stop': a failing cmdlet stops the script", async () => {
    const e = await broker.invoke(local, "Get-Item -LiteralPath '/nonexistent/rdpfix'; 'not reached'");
    expect(e.ok).toBe(false);
    if (e.ok) return;
    expect(e.error.fqid).toMatch(/^PathNotFound,/);
    expect(e.data?.output).toEqual([]);
  });

  it('classifies a missing command as not-found', async () => {
    const e = await broker.invoke(local, 'Invoke-NoSuchRdpfixCommand');
    expect(!e.ok && e.error.category).toBe('not-found');
  });
});

describe('hostile strings', () => {
  it('travel byte-exact to a lab host and back, and execute nothing', async () => {
    const host = makeLabHost();
    const canary = path.join(host.dir, 'canary.txt');
    const corpus = hostileStrings(canary);
    const before = readFileSync(host.statePath, 'utf8');
    const broker = new Broker({ processes: 1, runspaces: 4 });
    try {
      const target = { kind: 'lab' as const, host: 'lab-001', statePath: host.statePath };
      const names = Object.keys(corpus);
      // Each string goes in as an argument and comes back as output, plus its length as PowerShell counts it.
      const e = await broker.invoke(target, 'param($items) foreach ($i in $items) { $i; $i.Length }', [names.map((n) => corpus[n])]);
      const d = ok(e);
      expect(d.output).toHaveLength(names.length * 2);
      names.forEach((name, i) => {
        expect({ name, value: d.output[i * 2] }).toEqual({ name, value: corpus[name] });
        expect({ name, length: d.output[i * 2 + 1] }).toEqual({ name, length: corpus[name]!.length });
      });
      expect(existsSync(canary)).toBe(false);
      expect(readFileSync(host.statePath, 'utf8')).toBe(before);
    } finally {
      await broker.close();
    }
  });
});

describe('timeouts and process failures', () => {
  it('times out a hung call, stops it, and keeps serving', async () => {
    const broker = new Broker({ processes: 1, runspaces: 4 });
    try {
      const e = await broker.invoke(local, 'Start-Sleep -Seconds 60; "late"', [], { timeoutMs: 500 });
      expect(e.ok).toBe(false);
      if (!e.ok) expect(e.error.category).toBe('timeout');
      expect(ok(await broker.invoke(local, '"still here"')).output).toEqual(['still here']);
      expect(broker.restarts).toBe(0);
    } finally {
      await broker.close();
    }
  });

  it('releases a lab host whose call timed out, so the next call on it runs', async () => {
    const host = makeLabHost();
    const broker = new Broker({ processes: 1, runspaces: 4 });
    const target = { kind: 'lab' as const, host: 'lab-001', statePath: host.statePath };
    try {
      const e = await broker.invoke(target, 'Start-Sleep -Seconds 60', [], { timeoutMs: 500 });
      expect(!e.ok && e.error.category).toBe('timeout');
      expect(ok(await broker.invoke(target, '"next"', [], { timeoutMs: 10_000 })).output).toEqual(['next']);
    } finally {
      await broker.close();
    }
  });

  it('detects a hung PowerShell process, kills and replaces it', async () => {
    const broker = new Broker({ processes: 1, runspaces: 4, hangGraceMs: 2_000 });
    try {
      await broker.start();
      const [pid] = broker.pids;
      const pending = broker.invoke(local, 'Start-Sleep -Milliseconds 300; "x"');
      await new Promise((r) => setTimeout(r, 100));
      process.kill(pid!, 'SIGSTOP'); // the process stops answering without dying
      const e = await pending;
      expect(e.ok).toBe(false);
      if (!e.ok) expect(e.error.category).toBe('process');
      expect(() => process.kill(pid!, 0)).toThrow(); // the hung process is gone
      expect(ok(await broker.invoke(local, '$PID')).output[0]).not.toBe(pid);
      expect(broker.restarts).toBe(1);
    } finally {
      await broker.close();
    }
  });

  it('replaces a PowerShell process that was killed mid-call', async () => {
    const broker = new Broker({ processes: 1, runspaces: 4 });
    try {
      await broker.start();
      const [pid] = broker.pids;
      const pending = broker.invoke(local, 'Start-Sleep -Seconds 20; "x"');
      await new Promise((r) => setTimeout(r, 300));
      process.kill(pid!, 'SIGKILL');
      const e = await pending;
      expect(!e.ok && e.error.category).toBe('process');
      const d = ok(await broker.invoke(local, '$PID'));
      expect(d.output[0]).not.toBe(pid);
      expect(broker.pids[0]).toBe(d.output[0]);
    } finally {
      await broker.close();
    }
  });
});

describe('queueing', () => {
  it("a call's timeout counts from when it starts, not while it waits for a free runspace", async () => {
    const hosts = [1, 2, 3].map((i) => makeLabHost((s) => (s.name = `lab-q${i}`), i));
    const broker = new Broker({ processes: 1, labRunspaces: 1 });
    try {
      const calls = hosts.map((h) => broker.invoke({ kind: 'lab', host: h.state.name, statePath: h.statePath }, 'Start-Sleep -Milliseconds 1500; "done"', [], { timeoutMs: 2500 }));
      const results = await Promise.all(calls);
      // One runspace: the third call waited about 3 s before it started, longer than its 2.5 s timeout.
      for (const r of results) expect(ok(r).output).toEqual(['done']);
    } finally {
      await broker.close();
    }
  });
});

/** n lab hosts named <prefix>0..n-1, and the broker target of the i-th. */
function labHosts(n: number, prefix: string) {
  const hosts = Array.from({ length: n }, (_, i) => makeLabHost((s) => (s.name = `${prefix}${i}`), i + 1));
  const target = (i: number) => ({ kind: 'lab' as const, host: hosts[i]!.state.name, statePath: hosts[i]!.statePath });
  /** One call per host, all at once, each sleeping `ms` and then naming its host: every host must answer with its own name. */
  const everyHostAnswers = async (broker: Broker, ms: number) => {
    const results = await Promise.all(hosts.map((h, i) => broker.invoke(target(i), `Start-Sleep -Milliseconds ${ms}; (Get-LabState).name`)));
    expect(results.map((r) => ok(r).output[0])).toEqual(hosts.map((h) => h.state.name));
  };
  return { hosts, target, everyHostAnswers };
}

describe('pump', () => {
  it('while every runspace is busy, the pump sleeps until a call ends instead of polling the waiting calls', async () => {
    const { target, everyHostAnswers } = labHosts(6, 'lab-s');
    const broker = new Broker({ processes: 1, labRunspaces: 1, pumpWaitMs: 10_000, pumpLingerMs: 4_000 });
    try {
      expect(ok(await broker.invoke(target(0), '"warm"')).output).toEqual(['warm']);
      const before = broker.stats.sweeps;
      // Six 400 ms calls on one runspace: 2.4 s with five, then fewer, calls waiting. A pump that looked through them
      // every millisecond swept about 2 400 times; one that sleeps until a call ends, once per call and every 100 ms.
      await everyHostAnswers(broker, 400);
      const sweeps = broker.stats.sweeps - before;
      expect(sweeps).toBeGreaterThanOrEqual(6);
      expect(sweeps).toBeLessThan(80);
    } finally {
      await broker.close();
    }
  });

  it('while calls wait for a runspace, one exchange brings several replies; with nothing waiting it returns at once', async () => {
    const { target, everyHostAnswers } = labHosts(8, 'lab-p');
    // Long waits, so that only replies (and the linger) end an exchange.
    const broker = new Broker({ processes: 1, labRunspaces: 1, pumpWaitMs: 10_000, pumpLingerMs: 4_000 });
    try {
      expect(ok(await broker.invoke(target(0), '"warm"')).output).toEqual(['warm']);
      // Nothing waits behind a lone call: its reply does not sit out the linger.
      const started = Date.now();
      expect(ok(await broker.invoke(target(0), '"alone"')).output).toEqual(['alone']);
      expect(Date.now() - started).toBeLessThan(3_000);
      // Eight calls on one runspace: each reply would be an exchange of its own without the linger.
      const before = broker.stats.exchanges;
      await everyHostAnswers(broker, 100);
      expect(broker.stats.exchanges - before).toBeLessThanOrEqual(4);
      // Each exchange raced the process's exit; none of those races is held once its exchange is answered (they
      // used to stay, with their output buffers, for the life of the process).
      expect(broker.heldExitWaiters).toBe(0);
    } finally {
      await broker.close();
    }
  });

  it('the linger outlasts the wait for a first reply: a short pump wait still brings several replies per exchange', async () => {
    const { target, everyHostAnswers } = labHosts(8, 'lab-l');
    // A 50 ms wait for a first reply and a 4 s linger. Eight 300 ms calls on one runspace: while the first and the
    // last run, nothing is in hand and each pump returns after 50 ms (about 6 empty exchanges each); the six between
    // come back with the first, in one exchange: about 14 in all. Were the linger cut off where the wait ends, each
    // call would come back alone after its own empty exchanges: about 50.
    const broker = new Broker({ processes: 1, labRunspaces: 1, pumpWaitMs: 50, pumpLingerMs: 4_000 });
    try {
      expect(ok(await broker.invoke(target(0), '"warm"')).output).toEqual(['warm']);
      const before = broker.stats.exchanges;
      await everyHostAnswers(broker, 300);
      expect(broker.stats.exchanges - before).toBeLessThan(24);
    } finally {
      await broker.close();
    }
  });
});

describe('runspaces', () => {
  it("a call's deadline starts once its runspace is open: a slow open does not eat it", async () => {
    const hosts = [1, 2].map((i) => makeLabHost((s) => (s.name = `lab-o${i}`), i));
    const labModule = path.join(projectRoot(), 'test', 'fixtures', 'slow-open-lab', 'SlowOpenLab.psd1');
    const broker = new Broker({ processes: 1, labRunspaces: 2, labModule });
    try {
      // Two calls at once need two runspaces, each 2.5 s to open; each call runs 1 s and has 2 s once it runs.
      const script = 'Start-Sleep -Milliseconds 1000; (Get-LabState).name';
      const calls = hosts.map((h) => broker.invoke({ kind: 'lab', host: h.state.name, statePath: h.statePath }, script, [], { timeoutMs: 2000 }));
      const results = await Promise.all(calls);
      expect(results.map((r) => ok(r).output)).toEqual([['lab-o1'], ['lab-o2']]);
      // The script's text crossed the pipe once; the second call sent its hash alone.
      expect(broker.stats.scriptBytes).toBe(script.length);
    } finally {
      await broker.close();
    }
  });

  it('a runspace that cannot open fails the call with why, and the broker keeps serving', async () => {
    const host = makeLabHost();
    const broker = new Broker({ processes: 1, labModule: path.join(projectRoot(), 'test', 'fixtures', 'no-such-module.psm1') });
    try {
      const e = await broker.invoke({ kind: 'lab', host: 'lab-001', statePath: host.statePath }, '"never"', [], { timeoutMs: 5_000 });
      expect(!e.ok && e.error.category).toBe('process');
      expect(!e.ok && e.error.message).toMatch(/runspace failed to open: importing the lab module failed: .*no-such-module/i);
      expect(ok(await broker.invoke(local, '"still here"')).output).toEqual(['still here']);
    } finally {
      await broker.close();
    }
  });
});

describe('lab transport faults', () => {
  it('an unreachable lab host fails as unreachable with the WinRM FQID', async () => {
    const host = makeLabHost((s) => (s.network.reachable = false));
    const broker = new Broker({ processes: 1 });
    try {
      const e = await broker.invoke({ kind: 'lab', host: 'lab-001', statePath: host.statePath }, '"never"');
      expect(e.ok).toBe(false);
      if (e.ok) return;
      expect(e.error.category).toBe('unreachable');
      expect(e.error.fqid).toBe('WinRMOperationTimeout,PSSessionStateBroken');
      expect(e.error.message).toContain('Connecting to remote server LAB-001 failed');
      expect(e.data?.output).toEqual([]);
    } finally {
      await broker.close();
    }
  });

  it('a connection dropped after the script ran loses the reply but not the change', async () => {
    const host = makeLabHost((s) => (s.faults.drop = { nth: 1, when: 'after' }));
    const broker = new Broker({ processes: 1 });
    const target = { kind: 'lab' as const, host: 'lab-001', statePath: host.statePath };
    try {
      const e = await broker.invoke(target, '(Get-LabState).computerName = "CHANGED"; Save-LabState; "done"');
      expect(!e.ok && e.error.category).toBe('unreachable');
      expect(!e.ok && e.error.fqid).toBe('WinRMOperationAborted,PSSessionStateBroken');
      expect(host.read().computerName).toBe('CHANGED');
      // The second call is not dropped.
      expect(ok(await broker.invoke(target, '"again"')).output).toEqual(['again']);
    } finally {
      await broker.close();
    }
  });

  it('a connection dropped before the script runs changes nothing', async () => {
    const host = makeLabHost((s) => (s.faults.drop = { nth: 1, when: 'before' }));
    const broker = new Broker({ processes: 1 });
    try {
      const e = await broker.invoke({ kind: 'lab', host: 'lab-001', statePath: host.statePath }, '(Get-LabState).computerName = "CHANGED"; Save-LabState');
      expect(!e.ok && e.error.category).toBe('unreachable');
      expect(host.read().computerName).toBe('LAB-001');
    } finally {
      await broker.close();
    }
  });
});

describe('concurrency', () => {
  it('serves 50 lab hosts at once from two processes, calls overlapping, each host in order', async () => {
    const hosts = Array.from({ length: 50 }, (_, i) => makeLabHost((s) => {
      s.name = `lab-${i}`;
      s.computerName = `LAB-${i}`;
    }, i + 1));
    const broker = new Broker({ processes: 2, runspaces: 32, labRunspaces: 16 });
    try {
      await broker.start();
      const script = 'param($n) $t0 = [DateTime]::UtcNow.Ticks; Start-Sleep -Milliseconds 150; (Get-LabState).computerName; $n; $t0; [DateTime]::UtcNow.Ticks';
      const calls = hosts.flatMap((h, i) => [1, 2, 3].map((n) => ({ i, n, p: broker.invoke({ kind: 'lab', host: `lab-${i}`, statePath: h.statePath }, script, [n]) })));
      const results = await Promise.all(calls.map(async (c) => ({ ...c, d: ok(await c.p) })));
      for (const r of results) expect(r.d.output.slice(0, 2)).toEqual([`LAB-${r.i}`, r.n]);
      // Calls to one host never overlap and run in submission order.
      for (let i = 0; i < hosts.length; i++) {
        const mine = results.filter((r) => r.i === i).map((r) => r.d.output as number[]);
        for (let k = 1; k < mine.length; k++) expect(mine[k]![2]!).toBeGreaterThanOrEqual(mine[k - 1]![3]!);
      }
      // Calls to different hosts do overlap: the peak number of calls running at once.
      const edges = results.flatMap((r) => [[r.d.output[2] as number, 1], [r.d.output[3] as number, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let running = 0;
      let peak = 0;
      for (const [, delta] of edges) peak = Math.max(peak, (running += delta));
      // Two processes, so more than two calls at once means each process multiplexes many calls. (How high
      // the peak gets depends on the machine's load; scripts/bench-broker.mjs measures it.)
      expect(peak).toBeGreaterThanOrEqual(8);
      expect(new Set(broker.pids).size).toBe(2);
    } finally {
      await broker.close();
    }
  });
});

describe('lab state writes', () => {
  it('leave no temp files behind', async () => {
    const host = makeLabHost();
    const broker = new Broker({ processes: 1 });
    try {
      ok(await broker.invoke({ kind: 'lab', host: 'lab-001', statePath: host.statePath }, '(Get-LabState).computerName = "X"; Save-LabState'));
      expect(readdirSync(host.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      await broker.close();
    }
  });
});
