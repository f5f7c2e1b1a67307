import { InvalidArgumentError, type Command } from 'commander';

/** Commander argument parsers that reject bad numbers at the edge, with the flag's own words. */
export function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    return n;
  };
}

export function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Options of the read-only fleet commands (probe, diagnose): the host options, an inventory and a timeout. */
export interface FleetReadFlags {
  inventory: string;
  processes?: number;
  pwsh?: string;
  stateDir?: string;
  playbooks: string[];
  hosts?: string[];
  timeout: number;
  json: boolean;
  quiet?: boolean;
  plain?: boolean;
}

export function withFleetReadOptions(cmd: Command, withHostOptions: (c: Command) => Command): Command {
  return withHostOptions(cmd
    .requiredOption('-i, --inventory <file>', 'inventory file (rdpfix lab init writes one)')
    .option('--timeout <ms>', 'per-host timeout in milliseconds', wholeNumber(1000, 3_600_000), 60_000));
}
