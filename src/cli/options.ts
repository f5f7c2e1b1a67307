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

/** Options of the read-only fleet commands (probe, diagnose). */
export interface FleetReadFlags {
  inventory: string;
  processes: number;
  timeout: number;
  json: boolean;
}

export function withFleetReadOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-i, --inventory <file>', 'inventory file (rdpfix lab init writes one)')
    .option('--processes <n>', 'PowerShell processes to use', wholeNumber(1, 16), 2)
    .option('--timeout <ms>', 'per-host timeout in milliseconds', wholeNumber(1000, 3_600_000), 60_000)
    .option('--json', 'print one JSON document', false);
}
