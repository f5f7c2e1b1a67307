import { expandHostPattern } from './host-patterns.js';
import { mergeAnsibleGroups, type AnsibleGroup } from './ansible-groups.js';
import { ImportProblem, bag, type ImportedHost, type VarLayer } from './imported.js';

/**
 * An Ansible YAML inventory: top-level keys are groups (usually just `all`); a group has `hosts` (name → variables
 * or null), `vars` and `children` (name → group). Same merge as the INI form (`mergeAnsibleGroups`).
 */
export function isAnsibleYaml(doc: unknown): boolean {
  if (!isObject(doc) || 'version' in doc) return false;
  const groups = Object.values(doc);
  return groups.length > 0 && groups.every((g) => g === null || (isObject(g) && Object.keys(g).every((k) => k === 'hosts' || k === 'vars' || k === 'children')));
}

export function parseAnsibleYaml(doc: Record<string, unknown>, layer?: VarLayer): ImportedHost[] {
  const groups = new Map<string, AnsibleGroup>();
  const order: string[] = [];
  const firstSeen = new Map<string, string>();

  const visit = (name: string, body: unknown, parent: string | null, where: string) => {
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new ImportProblem(`${where}: '${name.slice(0, 60)}' is not a group name (letters, digits, '_' and '-')`);
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { hosts: new Map(), vars: bag(), parents: new Set() }));
    if (parent) g.parents.add(parent);
    if (body === null || body === undefined) return;
    if (!isObject(body)) throw new ImportProblem(`${where}: a group is a mapping with hosts, vars and children`);
    for (const key of Object.keys(body)) {
      if (!['hosts', 'vars', 'children'].includes(key)) throw new ImportProblem(`${where}.${key}: a group has only hosts, vars and children`);
    }
    if (body.vars !== undefined && body.vars !== null) {
      if (!isObject(body.vars)) throw new ImportProblem(`${where}.vars: must be a mapping of variables`);
      Object.assign(g.vars, body.vars);
    }
    if (body.hosts !== undefined && body.hosts !== null) {
      if (!isObject(body.hosts)) throw new ImportProblem(`${where}.hosts: must be a mapping of host names (to their variables, or nothing)`);
      for (const [pattern, vars] of Object.entries(body.hosts)) {
        if (vars !== null && !isObject(vars)) throw new ImportProblem(`${where}.hosts.${pattern.slice(0, 60)}: a host's value is a mapping of variables (or nothing)`);
        let names: string[];
        try {
          names = expandHostPattern(pattern);
        } catch (err) {
          throw new ImportProblem(`${where}.hosts: ${(err as Error).message}`);
        }
        for (const n of names) {
          if (!firstSeen.has(n)) {
            firstSeen.set(n, `${where}.hosts`);
            order.push(n);
          }
          g.hosts.set(n, Object.assign(g.hosts.get(n) ?? bag(), vars ?? {}));
        }
      }
    }
    if (body.children !== undefined && body.children !== null) {
      if (!isObject(body.children)) throw new ImportProblem(`${where}.children: must be a mapping of groups`);
      for (const [child, childBody] of Object.entries(body.children)) visit(child, childBody, name, `${where}.children.${child}`);
    }
  };
  for (const [name, body] of Object.entries(doc)) visit(name, body, name === 'all' ? null : 'all', name);
  return mergeAnsibleGroups(groups, order, (host) => firstSeen.get(host)!, layer);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
