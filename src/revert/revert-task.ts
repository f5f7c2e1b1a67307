import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RevertTaskCall } from '../../machines/playbook.machine.js';
import { revertTaskTtlMinutes, type Playbook } from '../playbooks/manifest.js';
import { withPrelude } from '../playbooks/prelude.js';
import { projectRoot } from '../paths.js';
import type { PortReach } from '../probe/reach.js';
import { stillNegotiates, works } from '../rdp/compare.js';
import type { RdpNegotiation } from '../rdp/negotiate.js';
import { probeRdp } from '../rdp/probe.js';
import { networkFor } from '../transport/network.js';
import { remotingPort } from '../transport/targets.js';
import { note, parametersFor, stepInput, type EngineContext, type HostJob } from '../engine/context.js';

/**
 * The revert task (commit-confirmed changes, as Junos and Cockpit do them): before a lockout-prone or
 * security-weakening step is applied, a SYSTEM scheduled task is armed on the host that runs the step's own undo
 * with its checkpoint after the TTL. After verify the controller confirms it still reaches the host — a *new*
 * remoting session and a fresh probe of the RDP port — and only then disarms the task. If the controller can't
 * confirm, or dies, the host reverts by itself. A step that `expires` keeps its task: re-hardening is not optional.
 * Every move is journaled before it is made.
 */
const script = (name: string) => readFileSync(path.join(projectRoot(), 'src', 'revert', 'ps', name), 'utf8');
let scripts: { arm: string; disarm: string; runner: string; bootstrap: string } | undefined;
// Arm and disarm use the shared prelude's protected %ProgramData%\rdpfix folder; the runner is plain (it runs the
// step's undo, which carries the prelude itself).
// The bootstrap becomes the task's -EncodedCommand: only its code, so the task's argument string stays short.
const taskScripts = () => (scripts ??= {
  arm: withPrelude(script('arm-revert-task.ps1')), disarm: withPrelude(script('disarm-revert-task.ps1')), runner: script('revert-runner.ps1'),
  bootstrap: revertBootstrap(),
});

/** The code of revert-bootstrap.ps1 without its comment lines: the fixed text the revert task runs as -EncodedCommand. */
export function revertBootstrap(): string {
  return script('revert-bootstrap.ps1').split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#')).join('\n');
}

/** The task's name: unique per run and step; only characters that are safe in the task's command line. */
export function revertTaskName(runId: string, playbook: string, step: string): string {
  return `rdpfix-${runId}-${playbook}.${step}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** What the revert task of one playbook run remembers between arm and confirm: the ports as they were before. */
export type RevertTaskMemo = Map<string, { rdpOpenBefore: boolean | null; remotingOpenBefore?: boolean | null; rdpBefore?: RdpNegotiation | null; dueUtc: string | null }>;

/** The RDP negotiation of the host's listener (null when the port is closed or it could not be asked): an open port
 *  whose TLS handshake fails locks users out as surely as a closed one. */
async function negotiation(ctx: EngineContext, job: HostJob, open: boolean | null): Promise<RdpNegotiation | null> {
  if (!open) return null;
  return probeRdp(job.target, job.address ?? job.target.host, job.rdpPort, { timeoutMs: 5000, broker: ctx.broker }).catch(() => null);
}

async function reach(ctx: EngineContext, job: HostJob): Promise<{ remoting: PortReach | null; rdp: PortReach }> {
  const remoting = remotingPort(job.target);
  const ports = remoting === null ? [job.rdpPort] : [remoting, job.rdpPort];
  const found = await networkFor(job.target, { timeoutMs: 5000, broker: ctx.broker }).reach(job.address ?? job.target.host, ports);
  const at = (p: number) => found.find((r) => r.port === p)!;
  return { remoting: remoting === null ? null : at(remoting), rdp: at(job.rdpPort) };
}

const failed = (category: string, message: string) => ({ category, message });

export async function runRevertTask(ctx: EngineContext, job: HostJob, pb: Playbook, call: RevertTaskCall, memo: RevertTaskMemo): Promise<void> {
  const step = pb.steps.find((s) => s.id === call.step)!;
  const task = revertTaskName(ctx.runId, pb.id, step.id);
  const where = { host: job.host, playbook: pb.id, step: step.id, task };
  switch (call.action) {
    case 'arm': {
      const ttlMinutes = revertTaskTtlMinutes(step, parametersFor(ctx, job, pb))!;
      const before = await reach(ctx, job);
      const rdpBefore = await negotiation(ctx, job, before.rdp.open);
      await note(ctx, { type: 'revert-task-arming', ...where, ttlMinutes, expires: step.revertTask!.expires });
      // The task runs the step's own undo with the same input the controller would give it.
      const input = { task, ttlMinutes, bootstrap: taskScripts().bootstrap, runner: taskScripts().runner, undoScript: pb.scripts[step.undo!], undoInput: stepInput(ctx, job, pb, step.id, 'undo', call.checkpoint) };
      const envelope = await ctx.broker.invoke(job.target, taskScripts().arm, [JSON.stringify(input)], { timeoutMs: 60_000 });
      if (!envelope.ok) throw failed(envelope.error.category, `Could not arm the revert task, so the change was not made: ${envelope.error.message}`);
      const armed = JSON.parse(String(envelope.data.output.at(-1))) as { dueUtc: string; nextRunUtc: string | null };
      memo.set(step.id, { rdpOpenBefore: before.rdp.open, remotingOpenBefore: before.remoting?.open ?? null, rdpBefore, dueUtc: armed.dueUtc });
      await note(ctx, { type: 'revert-task-armed', ...where, dueUtc: armed.dueUtc, nextRunUtc: armed.nextRunUtc, rdpBefore: before.rdp, remotingBefore: before.remoting });
      return;
    }
    case 'confirm': {
      // A new session: the one the change was made over may survive what a new connection would not.
      await ctx.broker.closeSession(job.target);
      const session = await ctx.broker.invoke(job.target, '[string](hostname)', [], { timeoutMs: 60_000 });
      const now = await reach(ctx, job);
      const m = memo.get(step.id);
      const problems: string[] = [];
      if (!session.ok) problems.push(`a new remoting session fails (${session.error.category}: ${session.error.message.split('\n')[0]})`);
      // "No worse than before": a port that did not answer before the change (or is unknown) must not be held against it.
      if (now.remoting && !now.remoting.open && m?.remotingOpenBefore !== false) problems.push(`the remoting port ${now.remoting.port} does not answer${m?.remotingOpenBefore ? ' (it did before the change)' : ''}`);
      if (!now.rdp.open && m?.rdpOpenBefore !== false) problems.push(`the RDP port ${now.rdp.port} does not answer${m?.rdpOpenBefore ? ' (it did before the change)' : ''}`);
      // At the protocol level where it can: a listener that negotiated before the change must still negotiate.
      let rdpNegotiation: string[] = [];
      if (m?.rdpBefore && now.rdp.open) {
        const after = await negotiation(ctx, job, true);
        const compared = after ? stillNegotiates(m.rdpBefore, after) : { ok: false, reasons: ['the RDP listener could not be probed'], changes: [] };
        // A step may mean to change which offer works (the RDP Security Layer for old clients refuses TLS): that is
        // journaled, not held against it. Locked out is a listener that negotiated before and negotiates nothing now.
        if (!compared.ok && !after?.attempts.some(works)) problems.push(`the RDP listener on port ${now.rdp.port} no longer negotiates as it did before the change (${compared.reasons.join('; ')})`);
        rdpNegotiation = [...compared.reasons, ...compared.changes];
      }
      await note(ctx, { type: 'revert-task-confirmed', ...where, ok: problems.length === 0, session: session.ok, rdpNegotiation, ports: [now.remoting, now.rdp].filter((p): p is PortReach => p !== null), problems });
      if (problems.length) {
        const due = m?.dueUtc ? ` at ${m.dueUtc}` : '';
        throw failed('lockout', `Not confirmed: ${problems.join('; ')}. The step is rolled back; should the controller not reach the host, its revert task restores the prior state by itself${due}.`);
      }
      return;
    }
    case 'keep': {
      await note(ctx, { type: 'revert-task-kept', ...where, dueUtc: memo.get(step.id)?.dueUtc ?? null });
      return;
    }
    case 'disarm': {
      await note(ctx, { type: 'revert-task-disarming', ...where });
      const envelope = await ctx.broker.invoke(job.target, taskScripts().disarm, [JSON.stringify({ task })], { timeoutMs: 60_000 });
      if (!envelope.ok) throw failed(envelope.error.category, `Could not disarm the revert task ${task}: ${envelope.error.message}`);
      const out = JSON.parse(String(envelope.data.output.at(-1))) as { wasArmed: boolean; ran: unknown };
      await note(ctx, { type: 'revert-task-disarmed', ...where, wasArmed: out.wasArmed, ran: out.ran ?? null });
      return;
    }
  }
}
