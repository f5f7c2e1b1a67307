import { InvalidArgumentError, type Command } from 'commander';
import { wholeNumber, list } from './options.js';

// Option definitions shared by the command definitions: light (commander only), so `--help` loads no engine.

/** The options every command that reaches hosts shares (probe, diagnose, plan, apply, rollback, resume, lab advance). */
export interface HostFlags {
  stateDir?: string;
  playbooks: string[];
  processes?: number;
  pwsh?: string;
  hosts?: string[];
  limit?: string;
  waitLock?: number;
  json: boolean;
}

export function withHostOptions(cmd: Command, o: { waitLock?: boolean } = {}): Command {
  cmd
    .option('--state-dir <dir>', 'where run journals and host leases live (default: $RDPFIX_STATE_DIR, config stateDir, or ~/.local/state/rdpfix)')
    .option('--playbooks <dir>', 'an extra folder of playbooks (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--processes <n>', 'PowerShell processes to use (default: $RDPFIX_PROCESSES, config processes, or cores − 1, from 1 to 4)', wholeNumber(1, 16))
    .option('--pwsh <path>', 'PowerShell executable (default: $RDPFIX_PWSH, config pwsh, or found automatically)')
    .option('--hosts <list>', 'only these hosts (comma-separated names)', list)
    .option('-l, --limit <pattern>', "only the hosts a pattern selects: names, groups, globs (web*), tag:NAME, @FILE of names, &intersect, !exclude (e.g. 'windows:&prod:!web03')")
    .option('--json', 'print one JSON document', false);
  if (o.waitLock) cmd.option('--wait-lock <seconds>', 'wait up to this long for hosts another run holds (default: refuse them at once)', wholeNumber(0, 86_400));
  return cmd;
}

/** `--param id.name=value`: the value is JSON when it parses as JSON (numbers, booleans, lists), else text. */
export function parseParam(value: string, prev: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const m = /^([a-z][a-z0-9-]*)\.([A-Za-z][A-Za-z0-9]*)=(.*)$/s.exec(value);
  if (!m) throw new InvalidArgumentError('expected PLAYBOOK.NAME=VALUE, e.g. --param session-limits.maxInstances=4');
  let parsed: unknown = m[3];
  try {
    parsed = JSON.parse(m[3]!);
  } catch {
    // plain text
  }
  return { ...prev, [m[1]!]: { ...(prev[m[1]!] ?? {}), [m[2]!]: parsed } };
}

/**
 * How a command that works through a fleet shows its progress (src/cli/views/choose.ts): the listr2 view on a
 * terminal, plain lines elsewhere; with `--json`, events as NDJSON on stdout and the summary as the last line.
 */
export function withProgressOptions(cmd: Command, o: { events?: boolean } = {}): Command {
  if (o.events) {
    const json = cmd.options.find((x) => x.long === '--json');
    if (json) json.description = 'stream events as NDJSON on stdout, one per line; the summary document is the last line (docs/json.md)';
  }
  return cmd
    .option('--plain', 'plain progress lines (also when stderr is not a terminal or CI is set)', false)
    .option('-q, --quiet', 'no progress: print only the result', false);
}
