import type { EngineEvent } from '../../engine/events.js';
import { escapeControl } from '../../safe-text.js';
import { seconds } from './tally.js';
import { FleetTally } from './tally.js';

const paint = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[39m`;
const PLAIN = { red: (s: string) => s, green: (s: string) => s, yellow: (s: string) => s };
const COLOUR = { red: paint(31), green: paint(32), yellow: paint(33) };

/**
 * One line per event, with the time since the command began: for pipes and CI logs (stderr, so stdout stays the
 * result). Text from hosts is shown inert: control characters escaped.
 */
export function plainView(stream: NodeJS.WritableStream, o: { colour: boolean }): (e: EngineEvent) => void {
  const c = o.colour ? COLOUR : PLAIN;
  const tally = new FleetTally();
  return (e) => {
    tally.see(e);
    const text = describe(inert(e), c, tally);
    if (text !== null) stream.write(`${`+${seconds(e.elapsedMs)}`.padStart(8)}  ${text}\n`);
  };
}

/** The event with every string escaped (host names, messages and reasons come from hosts and inventories). */
export function inert<T>(value: T): T {
  if (typeof value === 'string') return escapeControl(value) as T;
  if (Array.isArray(value)) return value.map(inert) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inert(v)])) as T;
  return value;
}

function describe(e: EngineEvent, c: typeof PLAIN, tally: FleetTally): string | null {
  const where = 'step' in e ? `${e.host} / ${e.playbook} / ${e.step}` : '';
  switch (e.type) {
    case 'run-started':
      return `${e.mode} run ${e.runId} on ${e.hosts.length} host(s)`;
    case 'resume-started':
      return `resuming on ${e.hosts.length} host(s)`;
    case 'rollback-started':
      return `rolling back ${e.hosts.length} host(s)`;
    case 'lease-taken-over':
      return `${e.host}: took over a lease left by a process that no longer runs`;
    case 'host-started':
      return `${e.host}: started (${e.playbooks.join(', ')})`;
    case 'waiting':
      return `${where}: ${c.yellow(`waiting on ${e.phase}`)} ${e.seconds}s`;
    case 'warning':
      return `${where}: ${c.yellow('warning')}: ${e.message}`;
    case 'step-checked':
      return e.blocked ? `${where}: ${c.yellow('blocked')}: ${e.blocked}` : e.compliant ? `${where}: compliant` : null;
    case 'step-applied':
      return `${where}: applied`;
    case 'step-verified':
      return `${where}: ${c.green('changed')}${e.reconciled ? ' (reconciled)' : ''}`;
    case 'step-failed':
      return `${where}: ${c.red('FAILED')} in ${e.phase} (${e.category}): ${e.message.split('\n')[0]}`;
    case 'step-undone':
      return `${where}: undone`;
    case 'undo-skipped':
      return `${where}: not undone (${e.reason})`;
    case 'undo-failed':
      return `${where}: ${c.red('UNDO FAILED')} (${e.category}): ${e.message.split('\n')[0]}`;
    case 'drift':
      return `${where}: ${c.red('DRIFT')}: the host changed since the run; not undone`;
    case 'revert-task':
      return `${where}: revert task ${e.state}${e.dueUtc ? ` (fires ${e.dueUtc})` : ''}${e.problems?.length ? `: ${e.problems.join('; ')}` : ''}`;
    case 'host-finished':
    case 'host-rolled-back':
      return `${e.host}: ${e.outcome === 'succeeded' || e.outcome === 'planned' ? c.green(e.outcome) : e.outcome === 'stopped' ? c.yellow(e.outcome) : c.red(e.outcome)}  [${tally.line()}]`;
    case 'rollout-stopped':
      return `rollout stopped after wave ${e.wave}: ${e.reason}; ${e.notStarted.length} host(s) not started`;
    case 'run-finished':
    case 'rollback-finished':
      return `finished: ${tally.line()}`;
    case 'diagnosis-started':
      return `diagnosing ${e.hosts} host(s)`;
    case 'diagnosis-progress':
      return `${e.host}: probed${e.reached ? '' : ' (not reached)'} (${e.probed}/${e.total})`;
    case 'diagnosis-finished':
      return `diagnosis done: ${e.healthy} of ${e.hosts} host(s) healthy`;
    case 'playbook-started':
    case 'playbook-finished':
    case 'playbook-rolled-back':
    case 'step-phase-started':
    case 'step-phase-ended':
    case 'undo-started':
      return null;
  }
}
