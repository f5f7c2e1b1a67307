import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tmpdir } from 'node:os';
import { Broker } from '../../src/broker/broker.js';
import { createRng } from '../../src/lab/rng.js';
import { applyScenario, type Scenario } from '../../src/lab/scenarios.js';
import { RDP_TCP_KEY } from '../../src/lab/base-host.js';
import type { LabHostState } from '../../src/lab/state.js';
import { locatePowerShell } from '../../src/powershell/locate.js';
import { tcpConnect } from '../../src/probe/reach.js';
import { networkFor } from '../../src/transport/network.js';
import type { LabTarget } from '../../src/transport/targets.js';
import { makeLabHost, type LabHostFixture } from '../helpers/lab.js';

const NOW = new Date('2026-11-25T12:00:00Z');

describe('TCP reach with real sockets', () => {
  let server: net.Server;
  let port: number;
  beforeAll(async () => {
    server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('an open port answers with the handshake time; a closed one is refused', async () => {
    const free = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const broker = undefined as unknown as Broker; // real targets never use the broker
    const [a, b] = await networkFor({ kind: 'winrm', host: 'h1' }, { timeoutMs: 3000, broker }).reach('127.0.0.1', [port, free, port]);
    expect(a).toEqual({ port, open: true, latencyMs: expect.any(Number) });
    expect(a!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(a!.latencyMs).toBeLessThan(3000);
    expect(b).toEqual({ port: free, open: false, latencyMs: null, error: 'ECONNREFUSED' });
    expect(await networkFor({ kind: 'local', host: 'x' }, { timeoutMs: 100, broker }).reach('127.0.0.1', [])).toEqual([]);
  });

  it('a name that does not resolve is ENOTFOUND', async () => {
    expect(await tcpConnect('rdpfix-no-such-host.invalid', 3389, 5000)).toMatchObject({ open: false, latencyMs: null, error: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN)$/) });
  });

  it('a connect that gets no answer stops at the timeout (a listener whose backlog is full drops new SYNs)', async () => {
    // A real socket that never accepts: PowerShell's TcpListener with backlog 0 (node accepts at once).
    const ps: ChildProcessWithoutNullStreams = spawn(locatePowerShell().executable, ['-NoProfile', '-NonInteractive', '-Command',
      '$l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $l.Start(0); [Console]::Out.WriteLine($l.LocalEndpoint.Port); [Console]::Out.Flush(); [void][Console]::In.ReadLine(); $l.Stop()']);
    try {
      const stuck = await new Promise<number>((resolve, reject) => {
        ps.stdout.once('data', (d) => resolve(Number(String(d).trim())));
        ps.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
      });
      let last = await tcpConnect('127.0.0.1', stuck, 400);
      for (let i = 0; i < 8 && last.open; i++) last = await tcpConnect('127.0.0.1', stuck, 400); // fill the queue
      expect(last).toEqual({ port: stuck, open: false, latencyMs: null, error: 'ETIMEDOUT' });
      const t = performance.now();
      expect((await tcpConnect('127.0.0.1', stuck, 300)).error).toBe('ETIMEDOUT');
      expect(performance.now() - t).toBeGreaterThanOrEqual(290);
    } finally {
      ps.stdin.end();
      ps.kill();
    }
  }, 60_000);
});

describe('TCP reach of lab hosts (the simulated network)', () => {
  let broker: Broker;
  beforeAll(() => {
    broker = new Broker({ processes: 1 });
  });
  afterAll(() => broker.close());

  const lab = (mutate?: (s: LabHostState) => void, ...scenarios: Scenario[]): LabHostFixture =>
    makeLabHost((s) => {
      for (const sc of scenarios) applyScenario(s, sc, createRng(3), NOW);
      mutate?.(s);
    });
  const target = (h: LabHostFixture): LabTarget => ({ kind: 'lab', host: h.state.name, statePath: h.statePath });
  const ask = (h: LabHostFixture, ports = [3389, 5985, 5986], address = h.state.network.address, timeoutMs = 2000) =>
    networkFor(target(h), { timeoutMs, broker }).reach(address, ports);
  const noAnswer = (port: number) => ({ port, open: false, latencyMs: null, error: 'ETIMEDOUT' });

  it('answers for each host from its state: healthy, firewall-blocked, termservice-stopped, unreachable', async () => {
    const healthy = lab((s) => { s.faults.latencyMs = 25; });
    const blocked = lab(undefined, 'firewall-blocked');
    const stopped = lab(undefined, 'termservice-stopped');
    const down = lab((s) => { s.network.reachable = false; });
    const [h, b, t, d] = await Promise.all([ask(healthy), ask(blocked), ask(stopped), ask(down)]);
    expect(h).toEqual([{ port: 3389, open: true, latencyMs: 25 }, { port: 5985, open: true, latencyMs: 25 }, noAnswer(5986)]);
    expect(b).toEqual([noAnswer(3389), { port: 5985, open: true, latencyMs: 0 }, noAnswer(5986)]);
    expect(t).toEqual([noAnswer(3389), { port: 5985, open: true, latencyMs: 0 }, noAnswer(5986)]);
    expect(d).toEqual([noAnswer(3389), noAnswer(5985), noAnswer(5986)]);
  }, 120_000);

  it('follows PortNumber, the profiles, WinRM, the firewall switch, the dialled address and the timeout', async () => {
    const custom = lab((s) => {
      s.registry[RDP_TCP_KEY]!.PortNumber = { kind: 'DWord', data: 3390 };
      s.firewall.rules.push({ ...s.firewall.rules[0]!, Name: 'RDP-Custom-TCP-3390', LocalPort: '3390' });
    });
    const publicNet = lab(undefined, 'public-profile'); // RDP rules Domain, Private; WinRM's Public rule admits the local subnet
    const winrmOff = lab((s) => { s.services.find((x) => x.Name === 'WinRM')!.Status = 'Stopped'; });
    const firewallOff = lab((s) => { s.firewall.profiles.forEach((p) => { p.Enabled = false; }); }, 'termservice-stopped');
    const slow = lab((s) => { s.faults.latencyMs = 5000; });
    const [c, p, w, f, x, n, z, sl] = await Promise.all([
      ask(custom, [3389, 3390]), ask(publicNet), ask(winrmOff, [5985]), ask(firewallOff, [3389, 5985]),
      ask(custom, [3390], '198.18.77.77'), ask(custom, [3390], custom.state.network.fqdn), ask(custom, [3390], 'not-in-this-lab'),
      ask(slow, [3389], slow.state.network.address, 1000),
    ]);
    expect(c).toEqual([noAnswer(3389), { port: 3390, open: true, latencyMs: 0 }]);
    expect(p).toEqual([noAnswer(3389), { port: 5985, open: true, latencyMs: 0 }, noAnswer(5986)]);
    expect(w).toEqual([noAnswer(5985)]);
    // Firewall off: a port nobody listens on sends a reset (stealth mode only applies with the firewall on).
    expect(f).toEqual([{ port: 3389, open: false, latencyMs: null, error: 'ECONNREFUSED' }, { port: 5985, open: true, latencyMs: 0 }]);
    expect(x).toEqual([noAnswer(3390)]);
    expect(n).toEqual([{ port: 3390, open: true, latencyMs: 0 }]);
    expect(z).toEqual([{ port: 3390, open: false, latencyMs: null, error: 'ENOTFOUND' }]);
    expect(sl).toEqual([noAnswer(3389)]);
  }, 120_000);

  it('is no remote call: it changes nothing and consumes none of the host\'s transport or command faults', async () => {
    const h = lab((s) => {
      s.faults.drop = { nth: 1, when: 'before' };
      s.faults.commands = [{ command: 'hostname', nth: 1, mode: 'error' }];
    });
    const before = readFileSync(h.statePath, 'utf8');
    expect(await ask(h)).toEqual([{ port: 3389, open: true, latencyMs: 0 }, { port: 5985, open: true, latencyMs: 0 }, noAnswer(5986)]);
    expect(readFileSync(h.statePath, 'utf8')).toBe(before);
    const base = h.statePath.replace(/\.json$/, '');
    expect(existsSync(`${base}.runtime.json`)).toBe(false);
    expect(existsSync(`${base}.audit.jsonl`)).toBe(false);
    // The first remote call is still the one the drop fault takes.
    const first = await broker.invoke(target(h), 'hostname');
    expect(first).toMatchObject({ ok: false, error: { origin: 'transport', message: expect.stringMatching(/aborted/) } });
    // The probe ran in the runspaces that serve local calls: the lab's Windows PowerShell 5.1 array shapes stay out.
    const local = await broker.invoke({ kind: 'local', host: 'controller' }, 'ConvertTo-Json -InputObject (Write-Output -NoEnumerate @(1, 2)) -Compress');
    expect(local).toMatchObject({ ok: true, data: { output: ['[1,2]'] } });
  }, 120_000);

  it('waits for a host whose probe holds its lock, instead of failing it or the others', async () => {
    const busy = lab((s) => { s.faults.hang = { nth: 1 }; });
    const idle = lab();
    const hung = broker.invoke(target(busy), 'hostname', [], { timeoutMs: 4000 }); // holds the lock until stopped
    await new Promise((r) => setTimeout(r, 1500));
    const started = Date.now();
    const [a, b] = await Promise.all([ask(busy, [3389]), ask(idle, [3389])]);
    expect(a).toEqual([{ port: 3389, open: true, latencyMs: 0 }]);
    expect(b).toEqual([{ port: 3389, open: true, latencyMs: 0 }]);
    expect((await hung).ok).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // it did wait for the lock
  }, 120_000);

  it('a broken state document is an error, not a closed port', async () => {
    const h = lab();
    writeFileSync(h.statePath, '{ not json');
    await expect(ask(h)).rejects.toThrow(/The lab could not answer the reach probe of lab-001/);
    await expect(networkFor({ kind: 'lab', host: 'gone', statePath: path.join(tmpdir(), 'rdpfix-no-such-lab-host.json') }, { timeoutMs: 1000, broker }).reach('198.18.0.1', [3389]))
      .rejects.toThrow(/The lab could not answer the reach probe of gone/);
  }, 120_000);
});
