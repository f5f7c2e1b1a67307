import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import type { Broker } from '../../src/broker/broker.js';
import { makeLabHost } from '../helpers/lab.js';
import { engineSetup, labInventory } from '../helpers/engine.js';
import { rollbackRun, startRun } from '../../src/engine/run.js';
import { runHost } from '../../src/engine/runner.js';
import type { EngineContext, HostJob } from '../../src/engine/context.js';
import { targetFor } from '../../src/inventory/inventory.js';
import { JournalWriter, newRunId, readRun } from '../../src/journal/journal.js';
import { nodeFs, type DurableFs } from '../../src/journal/group-commit.js';
import { resolveParameters } from '../../src/playbooks/manifest.js';
import type { JournalRecord } from '../../src/journal/records.js';

/**
 * Durable before the change, end to end on the lab: the journal tells `onRecord` about a record only once its batch
 * is fdatasync'd, so the set of records seen there is the set on disk. A broker in front of the real one checks, at
 * the moment each host-changing script is sent, that the record announcing it is in that set — with two hosts and a
 * guarded step in flight at once, so records share batches.
 */
const env = engineSetup();
afterAll(() => env.broker.close());

function gatedBroker(real: Broker) {
  const durable = new Set<string>();
  const checked: string[] = [];
  const missing: string[] = [];
  const key = (...parts: unknown[]) => parts.join('|');
  const onRecord = (r: JournalRecord) => {
    const x = r as { type: string; host?: string; playbook?: string; step?: string };
    durable.add(key(x.type, x.host, x.playbook, x.step));
  };
  const need = (what: string, k: string) => {
    checked.push(what);
    if (!durable.has(k)) missing.push(what);
  };
  const broker = Object.create(real) as Broker;
  broker.invoke = (target, script, args = [], options) => {
    const input = typeof args[0] === 'string' && args[0].startsWith('{') ? (JSON.parse(args[0]) as Record<string, unknown>) : null;
    if (input?.phase === 'apply') need(`apply ${input.host}/${input.step}`, key('step-checkpoint', input.host, input.playbook, input.step));
    if (input?.phase === 'undo') need(`undo ${input.host}/${input.step}`, key('undo-started', input.host, input.playbook, input.step));
    if (typeof input?.task === 'string') {
      // The revert task's arm and disarm scripts (the arm's input carries the undo's): the task is named
      // rdpfix-<run id>-<playbook>.<step>; the host is the one the script is sent to.
      const [, playbook, step] = /^rdpfix-\d{8}-\d{6}-[0-9a-f]{6}-(.+)\.([^.]+)$/.exec(input.task)!;
      const arm = 'undoInput' in input;
      need(`${arm ? 'arm' : 'disarm'} ${target.host}/${step}`, key(arm ? 'revert-task-arming' : 'revert-task-disarming', target.host, playbook, step));
    }
    return real.invoke(target, script, args, options);
  };
  return { broker, onRecord, checked, missing };
}

describe('journal durability on the lab', () => {
  it('every checkpoint, arming, disarming and undo-started record is durable before the host change it announces', async () => {
    const hosts = [makeLabHost((s) => (s.name = 'lab-201'), 21), makeLabHost((s) => (s.name = 'lab-202'), 22)];
    const gate = gatedBroker(env.broker);
    const r = await startRun({
      mode: 'apply', inventory: labInventory(hosts), catalogue: env.catalogue, playbookIds: ['registry-values', 'revert-task-rule'], parameters: {},
      concurrency: 2, allowIrreversible: false, stateDir: env.stateDir, broker: gate.broker, onRecord: gate.onRecord,
    });
    const failures = r.hosts.flatMap((h) => Object.values(h.results).map((x) => x.failure).filter(Boolean));
    expect(r.hosts.map((h) => h.outcome), JSON.stringify(failures)).toEqual(['succeeded', 'succeeded']);
    const back = await rollbackRun({ stateDir: env.stateDir, runId: r.runId, catalogue: env.catalogue, broker: gate.broker, force: false, onRecord: gate.onRecord });
    expect(back.hosts.map((h) => h.outcome)).toEqual(['rolledBack', 'rolledBack']);
    // 4 steps applied and undone per host; the guarded step armed and disarmed (after verify, and after its undo).
    for (const h of ['lab-201', 'lab-202']) {
      expect(gate.checked.filter((c) => c.startsWith('apply ') && c.includes(h))).toHaveLength(4);
      expect(gate.checked.filter((c) => c.startsWith('undo ') && c.includes(h))).toHaveLength(4);
      expect(gate.checked.filter((c) => c.startsWith('arm ') && c.includes(h))).toHaveLength(1);
      expect(gate.checked.filter((c) => c.startsWith('disarm ') && c.includes(h))).toHaveLength(2);
    }
    expect(gate.missing).toEqual([]);
  });

  it('a journal that cannot be made durable stops the host before the change its record announced, and undoes nothing unjournaled', async () => {
    const host = makeLabHost((s) => (s.name = 'lab-203'), 23);
    const inventory = labInventory([host]);
    const pb = env.catalogue.get('registry-values')!;
    const parameters = { [pb.id]: resolveParameters(pb, {}) };
    const runId = newRunId();
    // The disk fails on the batch that holds set-beta's checkpoint: set-alpha is applied by then, set-beta must not be.
    const failing: DurableFs = {
      ...nodeFs,
      write: (fd, bytes, offset, length) => {
        if (bytes.subarray(offset, offset + length).toString('utf8').includes('"type":"step-checkpoint","step":"set-beta"')) dying = true;
        return nodeFs.write(fd, bytes, offset, length);
      },
      datasync: async (fd) => {
        if (dying) throw Object.assign(new Error('i/o error'), { code: 'EIO' });
        return nodeFs.datasync(fd);
      },
    };
    let dying = false;
    const { writer } = JournalWriter.create(env.stateDir, {
      runId, version: 'test', mode: 'apply', inventory: inventory.path, hosts: inventory.hosts, playbooks: [{ id: pb.id, version: pb.version, digest: pb.digest }],
      parameters, allowIrreversible: false, concurrency: 1,
    }, { fs: failing });
    const ctx: EngineContext = { runId, broker: env.broker, journal: writer, parameters, allowIrreversible: false };
    const job: HostJob = { host: 'lab-203', target: targetFor(inventory.hosts[0]!), playbooks: [pb], rdpPort: 3389 };
    await expect(runHost(ctx, job, { mode: 'apply', rollbackInput: () => ({}) })).rejects.toMatchObject({ kind: 'internal', message: expect.stringMatching(/durably \(EIO\); the run stops/) });
    await expect(writer.close()).rejects.toThrow(/EIO/);
    await env.broker.closeSession(job.target);
    // Alpha was applied; Beta's apply never ran; nothing was undone without its undo-started on disk.
    expect(host.read().registry['HKEY_LOCAL_MACHINE\\SOFTWARE\\RdpfixTest']).toEqual({ Alpha: { kind: 'DWord', data: 1 } });
    const audit = host.statePath.replace(/\.json$/, '.audit.jsonl');
    const commands = existsSync(audit) ? readFileSync(audit, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { command: string }).command) : [];
    expect(commands.filter((c) => /^(New|Set|Remove)-Item/.test(c))).toEqual(['New-Item', 'New-ItemProperty']);
    // Once the disk works again, the run reads as interrupted and rolls back from its journal.
    expect(readRun(env.stateDir, runId).records.at(-1)).toMatchObject({ type: 'step-checkpoint', step: 'set-beta' });
    const back = await rollbackRun({ stateDir: env.stateDir, runId, catalogue: env.catalogue, broker: env.broker, force: false });
    expect(back.hosts[0]!.outcome).toBe('rolledBack');
    expect(host.read().registry['HKEY_LOCAL_MACHINE\\SOFTWARE\\RdpfixTest']).toBeUndefined();
  });
});
