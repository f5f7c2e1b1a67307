import type { Playbook } from '../playbooks/manifest.js';
import type { HostDiagnosis } from './diagnose.js';

export interface HostChoice {
  host: string;
  playbooks: string[];
  /** Parameters the host's evidence decides, by playbook (e.g. the user whose profile to repair). */
  parameters: Record<string, Record<string, unknown>>;
  /** Findings no playbook can fix here: blocked by policy, fixed outside the host, or not in the catalogue yet. */
  unfixable: { cause: string; why: string }[];
}

/**
 * From a diagnosis, the playbooks each host needs: those its findings name, that exist in the catalogue, that
 * group policy does not block, and (when `only` is given) that the user chose. The engine orders them.
 */
export function choosePlaybooks(diagnosis: HostDiagnosis[], catalogue: Map<string, Playbook>, only?: string[]): HostChoice[] {
  return diagnosis.map((d) => {
    const playbooks = new Set<string>();
    const parameters: HostChoice['parameters'] = {};
    const unfixable: HostChoice['unfixable'] = [];
    for (const f of d.findings) {
      if (!f.playbook) unfixable.push({ cause: f.cause, why: 'the fix is outside the host' });
      else if (f.blockedByPolicy) unfixable.push({ cause: f.cause, why: 'blocked by policy: change the GPO' });
      else if (!catalogue.has(f.playbook)) unfixable.push({ cause: f.cause, why: `no playbook '${f.playbook}' in the catalogue yet` });
      else if (only && !only.includes(f.playbook)) unfixable.push({ cause: f.cause, why: `${f.playbook} not chosen with --playbook` });
      else {
        playbooks.add(f.playbook);
        if (f.parameters) parameters[f.playbook] ??= f.parameters;
      }
    }
    return { host: d.host, playbooks: [...playbooks], parameters, unfixable };
  });
}
