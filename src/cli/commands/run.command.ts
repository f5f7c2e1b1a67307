import { Command } from 'commander';
import { parseParam, withHostOptions, withProgressOptions } from '../host-options.js';
import { InvalidArgumentError } from 'commander';
import { wholeNumber } from '../options.js';
import { parsePercent, parseSerial } from '../../engine/rollout.js';
import type { RunFlags } from './run.action.js';

function runCommand(name: 'plan' | 'apply'): Command {
  const cmd = new Command(name)
    .description(name === 'plan' ? 'dry run: say, host by host, what each step would change (changes nothing)' : 'run playbooks on hosts: check, checkpoint, apply, verify; roll back a host on failure')
    .requiredOption('-i, --inventory <file>', 'inventory file')
    .option('-p, --playbook <id...>', 'playbook ids to run (order hints decide the order)')
    .option('--from-diagnosis', 'diagnose first; give each host only the playbooks its findings need (with -p: only among those); the default without -p', false)
    .option('--param <id.name=value>', 'a playbook parameter (repeatable)', parseParam, {})
    .option('--concurrency <n>', 'hosts worked on at once (default: $RDPFIX_CONCURRENCY, config concurrency, or 32)', wholeNumber(1, 1024))
    .option('--allow-irreversible', 'allow steps that cannot be undone (e.g. logging sessions off)', false);
  if (name === 'apply') {
    cmd.option('-y, --yes', 'do not ask before changing hosts', false)
      .option('--serial <n|p%>', 'hosts per wave (a count, or a share of the hosts): a wave ends before the next starts', asFlag(parseSerial))
      .option('--canary <n>', 'the first N hosts go alone; the rest only if each ends healthy by a second diagnosis', wholeNumber(1, 100_000))
      .option('--max-fail <p%>', 'a wave in which more than this share of hosts failed stops the run: later waves never start', asFlag(parsePercent))
      .option('--rollback-wave', 'when a wave stops the run, roll back that wave\'s hosts that changed', false);
  }
  cmd.option('--report <file>', 'write a report when the run ends: .html, .md, .json or .xml (JUnit), by extension (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[]);
  cmd.option('--retry <run>', 'only the hosts that failed or were not reached in that run (rdpfix runs list)');
  withHostOptions(cmd, { waitLock: name === 'apply' });
  withProgressOptions(cmd, { events: true });
  return cmd.action(async (flags: RunFlags) => (await import('./run.action.js')).runAction(name, flags));
}

/** A parser's error as commander's, so a bad value is a usage error naming the flag. */
function asFlag<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

export const planCommand = () => runCommand('plan');
export const applyCommand = () => runCommand('apply');
