import { Command } from 'commander';
import type { Flags } from './playbooks.action.js';

const extra = (cmd: Command) => cmd.option('--playbooks <dir>', 'an extra folder of playbooks (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[]).option('--json', 'print JSON', false);
const action = () => import('./playbooks.action.js');

export function playbooksCommand(): Command {
  const pb = new Command('playbooks').description('the remediation playbooks');
  extra(pb.command('list').description('every playbook: built-in and from --playbooks folders')).action(async (f: Flags) => (await action()).playbooksListAction(f));
  extra(pb.command('show').description('one playbook; --graph prints its machine as a Mermaid state diagram').argument('<id>').option('--graph', 'Mermaid state diagram', false)).action(async (id: string, f: Flags) => (await action()).playbooksShowAction(id, f));
  pb.command('validate')
    .description('check a folder of playbooks (or one playbook folder): manifests, parameters, patterns, scripts (PowerShell parser, 5.1 compatibility), order hints, ids; lists every problem')
    .argument('<dir>')
    .option('--json', 'print JSON', false)
    .action(async (dir: string, f: Flags) => (await action()).playbooksValidateAction(dir, f));
  return pb;
}
