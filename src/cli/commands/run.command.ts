import { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { loadInventory } from '../../inventory/inventory.js';
import { startRun, type RunResult } from '../../engine/run.js';
import { RdpfixError } from '../../errors.js';
import { engineFrom, list, parseParam, withEngineOptions, type EngineFlags } from '../engine-options.js';
import { wholeNumber } from '../options.js';
import { renderOutcomes, renderPlan, resultJson } from '../render.js';
import { EXIT } from '../exit.js';
import { progressPrinter } from '../progress.js';
import { diagnoseFleet } from '../../diagnose/diagnose.js';
import { choosePlaybooks, type HostChoice } from '../../diagnose/choose.js';
import { renderTable } from '../table.js';

interface RunFlags extends EngineFlags {
  inventory: string;
  playbook?: string[];
  fromDiagnosis: boolean;
  param: Record<string, Record<string, unknown>>;
  hosts?: string[];
  concurrency?: number;
  allowIrreversible: boolean;
  yes: boolean;
}

function hostParametersFrom(choices: HostChoice[], given: RunFlags['param']): Record<string, Record<string, Record<string, unknown>>> {
  const strip = (pb: string, p: Record<string, unknown>) => Object.fromEntries(Object.entries(p).filter(([k]) => !(k in (given[pb] ?? {}))));
  return Object.fromEntries(choices.map((c) => [c.host, Object.fromEntries(Object.entries(c.parameters).map(([pb, p]) => [pb, strip(pb, p)]))]));
}

function runCommand(name: 'plan' | 'apply'): Command {
  const cmd = new Command(name)
    .description(name === 'plan' ? 'dry run: say, host by host, what each step would change (changes nothing)' : 'run playbooks on hosts: check, checkpoint, apply, verify; roll back a host on failure')
    .requiredOption('-i, --inventory <file>', 'inventory file')
    .option('-p, --playbook <id...>', 'playbook ids to run (order hints decide the order)')
    .option('--from-diagnosis', 'diagnose first; give each host only the playbooks its findings need (with -p: only among those); the default without -p', false)
    .option('--param <id.name=value>', 'a playbook parameter (repeatable)', parseParam, {})
    .option('--hosts <list>', 'only these hosts of the inventory', list)
    .option('--concurrency <n>', 'hosts worked on at once (default 32, or config concurrency)', wholeNumber(1, 1024))
    .option('--allow-irreversible', 'allow steps that cannot be undone (e.g. logging sessions off)', false);
  if (name === 'apply') cmd.option('-y, --yes', 'do not ask before changing hosts', false);
  withEngineOptions(cmd);
  return cmd.action(async (flags: RunFlags) => {
    // Without playbooks named, the diagnosis chooses them: each host gets what its findings need.
    if (!flags.playbook?.length) flags.fromDiagnosis = true;
    const engine = engineFrom(flags);
    const inventory = loadInventory(flags.inventory);
    const catalogue = engine.catalogue();
    const broker = engine.broker();
    let choices: HostChoice[] | undefined;
    if (flags.fromDiagnosis) {
      const diagnosis = await diagnoseFleet(inventory, broker, { timeoutMs: 60_000 });
      choices = choosePlaybooks(diagnosis.filter((d) => !flags.hosts?.length || flags.hosts.some((h) => h.toLowerCase() === d.host.toLowerCase())), catalogue, flags.playbook);
      if (!flags.json) {
        console.error(renderTable(['HOST', 'PLAYBOOKS FROM DIAGNOSIS', 'NOT FIXED BY A PLAYBOOK'], choices.map((c) => [c.host, c.playbooks.join(', ') || '-', c.unfixable.map((u) => `${u.cause} (${u.why})`).join('; ')])));
      }
    }
    const chosenIds = choices ? [...new Set(choices.flatMap((c) => c.playbooks))] : flags.playbook!;
    const base = {
      inventory, catalogue, playbookIds: chosenIds, hostFilter: flags.hosts,
      // From a diagnosis, parameters for playbooks no host needs are not an error.
      parameters: choices ? Object.fromEntries(Object.entries(flags.param).filter(([id]) => chosenIds.includes(id))) : flags.param,
      playbooksByHost: choices ? Object.fromEntries(choices.map((c) => [c.host, c.playbooks])) : undefined,
      // What a host's evidence decides (e.g. whose profile); a --param given on the command line wins.
      hostParameters: choices ? hostParametersFrom(choices, flags.param) : undefined,
      concurrency: flags.concurrency ?? engine.concurrency ?? 32, allowIrreversible: flags.allowIrreversible, stateDir: engine.stateDir, broker,
    };
    if (choices && chosenIds.length === 0) {
      await broker.close();
      if (flags.json) console.log(JSON.stringify({ runId: null, mode: name, hosts: [], diagnosis: choices }, null, 2));
      else console.log('No host needs a playbook from the catalogue: nothing to do.');
      return;
    }
    try {
      if (name === 'apply' && !flags.yes) {
        if (!process.stdin.isTTY) throw new RdpfixError('usage', 'apply changes hosts and asks first; there is no terminal to ask on.', 'Pass --yes to apply without asking (e.g. in scripts and CI), or run rdpfix plan first.');
        const plan = await startRun({ ...base, mode: 'plan' });
        console.log(renderPlan(plan));
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = await rl.question(`\nApply to ${plan.hosts.length} host(s)? [y/N] `);
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) {
          console.log('Nothing changed.');
          return;
        }
      }
      const progress = flags.json ? undefined : progressPrinter();
      const result: RunResult = await startRun({ ...base, mode: name, onRecord: progress });
      if (flags.json) console.log(JSON.stringify({ ...(resultJson(result) as object), ...(choices ? { diagnosis: choices } : {}) }, null, 2));
      else {
        console.log(name === 'plan' ? renderPlan(result) : renderOutcomes(result));
        console.log(`\nRun ${result.runId}${name === 'apply' ? ` — undo it later with: rdpfix rollback ${result.runId}` : ''}`);
      }
      const good = name === 'plan' ? 'planned' : 'succeeded';
      if (result.hosts.some((h) => h.outcome !== good)) process.exitCode = EXIT.hostsFailed;
    } finally {
      await broker.close();
    }
  });
}

export const planCommand = () => runCommand('plan');
export const applyCommand = () => runCommand('apply');
