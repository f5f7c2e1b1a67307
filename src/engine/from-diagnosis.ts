import { choosePlaybooks, type HostChoice } from '../diagnose/choose.js';
import type { HostDiagnosis } from '../diagnose/diagnose.js';
import type { Playbook } from '../playbooks/manifest.js';
import type { RunOptions } from './run.js';

/**
 * The join of a diagnosis with the catalogue: which playbooks each host runs, with which parameters. Pure, so it
 * is tested without a CLI or a host (test/unit/from-diagnosis.test.ts); `plan`/`apply` without -p use it.
 */
export interface DiagnosisPlan {
  choices: HostChoice[];
  /** Every playbook some host needs (empty: nothing to do). */
  playbookIds: string[];
  playbooksByHost: Record<string, string[]>;
  /** Parameters given by the user, for the playbooks chosen only (for others they are not an error here). */
  parameters: RunOptions['parameters'];
  /** What a host's evidence decides (e.g. whose profile); a parameter the user gave wins. */
  hostParameters: NonNullable<RunOptions['hostParameters']>;
}

export function planFromDiagnosis(
  diagnosis: HostDiagnosis[], catalogue: Map<string, Playbook>,
  o: { only?: string[]; parameters: RunOptions['parameters']; hosts?: string[] },
): DiagnosisPlan {
  const wanted = (host: string) => !o.hosts?.length || o.hosts.some((h) => h.toLowerCase() === host.toLowerCase());
  const choices = choosePlaybooks(diagnosis.filter((d) => wanted(d.host)), catalogue, o.only?.length ? o.only : undefined);
  const playbookIds = [...new Set(choices.flatMap((c) => c.playbooks))];
  const given = o.parameters;
  const notGiven = (pb: string, p: Record<string, unknown>) => Object.fromEntries(Object.entries(p).filter(([k]) => !(k in (given[pb] ?? {}))));
  return {
    choices,
    playbookIds,
    playbooksByHost: Object.fromEntries(choices.map((c) => [c.host, c.playbooks])),
    parameters: Object.fromEntries(Object.entries(given).filter(([id]) => playbookIds.includes(id))),
    hostParameters: Object.fromEntries(choices.map((c) => [c.host, Object.fromEntries(Object.entries(c.parameters).map(([pb, p]) => [pb, notGiven(pb, p)]))])),
  };
}
