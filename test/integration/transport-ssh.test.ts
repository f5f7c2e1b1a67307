/**
 * The ssh transport for real: PowerShell remoting over SSH (New-PSSession -HostName) through the broker,
 * against a private OpenSSH server on 127.0.0.1 that scripts/start-test-sshd.sh starts for this file.
 *
 * Skipped (describe.skip, with the reason in its name) only outside CI and only when that server cannot be
 * started here (not Linux, not root, no OpenSSH and no apt-get, no PowerShell). In CI it always runs.
 *
 * It also pins three things the broker does for ssh: ssh's own stderr never reaches the protocol channel
 * (stdout), ssh's reason for a failed connection reaches the classifier, and remote warnings come back.
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Broker } from '../../src/index.js';
import type { Envelope, SshTarget } from '../../src/index.js';
import { locatePowerShell } from '../../src/powershell/locate.js';
import { projectRoot } from '../../src/paths.js';
import { hostileStrings } from '../fixtures/hostile-strings.js';

const inCI = Boolean(process.env.CI);
const startScript = path.join(projectRoot(), 'scripts', 'start-test-sshd.sh');
const stopScript = path.join(projectRoot(), 'scripts', 'stop-test-sshd.sh');

/** Why a local sshd cannot be started on this machine, or undefined when it can be tried. */
function cannotStartSshd(): string | undefined {
  if (process.platform !== 'linux') return `the test sshd script needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the test sshd must be started as root (privilege separation, /run/sshd, apt-get)';
  const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (!existsSync('/usr/sbin/sshd') && !has('apt-get')) return 'OpenSSH server is not installed and there is no apt-get to install it';
  try {
    locatePowerShell();
  } catch (err) {
    return `no PowerShell for the sshd subsystem: ${(err as Error).message}`;
  }
  return undefined;
}

const notHere = inCI ? undefined : cannotStartSshd();
const suite = notHere ? describe.skip : describe;

interface Sshd {
  dir: string;
  host: string;
  port: number;
  user: string;
  key: string;
  badKey: string;
  knownHosts: string;
}

function ok(e: Envelope) {
  if (!e.ok) throw new Error(`expected success, got ${e.error.category} (${e.error.origin}): ${e.error.message}`);
  return e.data;
}

function failure(e: Envelope) {
  if (e.ok) throw new Error(`expected a failure, got output ${JSON.stringify(e.data.output)}`);
  return e.error;
}

type Failure = Extract<Envelope, { ok: false }>['error'];

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

suite(notHere ? `ssh transport (skipped: ${notHere})` : 'ssh transport (PowerShell remoting over SSH to a local sshd)', () => {
  let sshd: Sshd | undefined;
  let startError: string | undefined;
  let broker: Broker;
  let target: SshTarget;
  /** The options every target gets: trust exactly the test server's host key, never prompt. */
  let strict: Record<string, string>;

  beforeAll(() => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-sshd-'));
    const r = spawnSync('bash', [startScript, dir], {
      encoding: 'utf8',
      // The broker's PowerShell is the one the server runs as its powershell subsystem.
      env: { ...process.env, RDPFIX_PWSH: locatePowerShell().executable },
      timeout: 280_000,
    });
    if (r.status !== 0) {
      startError = `scripts/start-test-sshd.sh failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`;
      rmSync(dir, { recursive: true, force: true });
      if (inCI) throw new Error(startError);
      return;
    }
    const env = Object.fromEntries(readFileSync(path.join(dir, 'env'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    sshd = {
      dir,
      host: env.RDPFIX_SSHD_HOST!,
      port: Number(env.RDPFIX_SSHD_PORT),
      user: env.RDPFIX_SSHD_USER!,
      key: env.RDPFIX_SSHD_KEY!,
      badKey: env.RDPFIX_SSHD_BAD_KEY!,
      knownHosts: env.RDPFIX_SSHD_KNOWN_HOSTS!,
    };
    strict = { UserKnownHostsFile: sshd.knownHosts, GlobalKnownHostsFile: '/dev/null', StrictHostKeyChecking: 'yes', BatchMode: 'yes', IdentitiesOnly: 'yes' };
    target = { kind: 'ssh', host: sshd.host, port: sshd.port, user: sshd.user, keyFile: sshd.key, connectTimeoutMs: 15_000, sshOptions: strict };
    broker = new Broker({ processes: 1, runspaces: 4 });
  }, 300_000);

  beforeEach((ctx) => {
    // Outside CI a server that would not start skips the tests (with the script's reason) instead of failing them.
    if (!sshd) ctx.skip(startError);
  });

  afterAll(async () => {
    await broker?.close();
    if (sshd) {
      spawnSync('bash', [stopScript, sshd.dir], { encoding: 'utf8', timeout: 30_000 });
      rmSync(sshd.dir, { recursive: true, force: true });
    }
  });

  it('passes arguments in and returns output values as JSON', async () => {
    const d = ok(await broker.invoke(target, 'param($a, $b, $c) $a; $b + 1; $c.name; $c.list.Count', ['text', 41, { name: 'n', list: [1, 2, 3] }]));
    expect(d.output).toEqual(['text', 42, 'n', 3]);
  });

  it('carries the hostile strings byte-exact over ssh and back, and executes nothing', async () => {
    const canary = path.join(sshd!.dir, 'canary.txt');
    const corpus = hostileStrings(canary);
    const names = Object.keys(corpus);
    // Each string goes in as an argument and comes back as output, plus its length as the remote PowerShell counts it.
    const d = ok(await broker.invoke(target, 'param($items) foreach ($i in $items) { $i; $i.Length }', [names.map((n) => corpus[n])]));
    expect(d.output).toHaveLength(names.length * 2);
    names.forEach((name, i) => {
      expect({ name, value: d.output[i * 2] }).toEqual({ name, value: corpus[name] });
      expect({ name, length: d.output[i * 2 + 1] }).toEqual({ name, length: corpus[name]!.length });
    });
    // The server is this machine: a string that ran would have written the canary here.
    expect(existsSync(canary)).toBe(false);
  });

  it('reuses the remote session across calls to one host, and closeSession closes it', async () => {
    const first = ok(await broker.invoke(target, '$PID')).output[0];
    const second = ok(await broker.invoke(target, '$PID')).output[0];
    expect(typeof first).toBe('number');
    expect(first).not.toBe(broker.pids[0]); // it ran in the remote pwsh, not in the broker's
    expect(second).toBe(first);
    await broker.closeSession(target);
    const third = ok(await broker.invoke(target, '$PID')).output[0];
    expect(typeof third).toBe('number');
    expect(third).not.toBe(first);
  });

  it('returns a remote warning in streams.warning, not in the output', async () => {
    const d = ok(await broker.invoke(target, "Write-Warning 'careful over ssh'; 'result'"));
    expect(d.output).toEqual(['result']);
    expect(d.streams.warning).toEqual(['careful over ssh']);
  });

  it('reports a remote throw as a script error with the thrown message', async () => {
    const error = failure(await broker.invoke(target, "throw 'step failed over ssh'"));
    expect(error.category).toBe('script');
    expect(error.message).toBe('step failed over ssh');
  });

  describe('connection failures', () => {
    // A broker of their own, so that these failures cannot disturb the broker the tests above use.
    let failing: Broker;
    beforeAll(() => {
      failing = new Broker({ processes: 1, runspaces: 4 });
    });
    afterAll(() => failing?.close());

    it('nothing listening on the port is unreachable', async () => {
      const error = failure(await failing.invoke({ ...target, port: await closedPort() }, '"never"'));
      expect(error).toMatchObject({ origin: 'transport', category: 'unreachable' });
    });

    it('a key the server does not authorize is auth', async () => {
      const error = failure(await failing.invoke({ ...target, keyFile: sshd!.badKey }, '"never"'));
      expect(error).toMatchObject({ origin: 'transport', category: 'auth' });
    });

    it('a host key not in known_hosts, with strict checking, is trust', async () => {
      const empty = path.join(sshd!.dir, 'known_hosts.empty');
      writeFileSync(empty, '');
      const error = failure(await failing.invoke({ ...target, sshOptions: { ...strict, UserKnownHostsFile: empty } }, '"never"'));
      expect(error).toMatchObject({ origin: 'transport', category: 'trust' });
    });
  });
});
