import { Command } from 'commander';
import { parseParam, withHostOptions } from '../host-options.js';
import { wholeNumber } from '../options.js';
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
  if (name === 'apply') cmd.option('-y, --yes', 'do not ask before changing hosts', false);
  cmd.option('--report <file>', 'write a report when the run ends: .html, .md, .json or .xml (JUnit), by extension (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[]);
  cmd.option('--retry <run>', 'only the hosts that failed or were not reached in that run (rdpfix runs list)');
  withHostOptions(cmd, { waitLock: name === 'apply' });
  return cmd.action(async (flags: RunFlags) => (await import('./run.action.js')).runAction(name, flags));
}

export const planCommand = () => runCommand('plan');
export const applyCommand = () => runCommand('apply');
