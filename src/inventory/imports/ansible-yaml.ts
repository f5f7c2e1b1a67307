import { expandHostPattern } from './host-patterns.js';
import { ImportProblem, bag, type ImportedHost, type VarLayer } from './imported.js';

/**
 * An Ansible YAML inventory: top-level keys are groups (usually just `all`); a group has `hosts` (name → variables
 * or null), `vars` and `children` (name → group). Same merge order as the INI form (src/inventory/imports/ansible-ini.ts).
 */
export function isAnsibleYaml(doc: unknown): boolean {
  if (!isObject(doc) || 'version' in doc) return false;
  const groups = Object.values(doc);
  return groups.length > 0 && groups.every((g) => g === null || (isObject(g) && Object.keys(g).every((k) => k === 'hosts' || k === 'vars' || k === 'children')));
}

export function parseAnsibleYaml(doc: Record<string, unknown>, layer?: VarLayer): ImportedHost[] {
  interface Group { hosts: Map<string, Record<string, unknown>>; vars: Record<string, unknown>; parents: Set<string>; where: string }
  const groups = new Map<string, Group>();
  const order: string[] = [];
  const firstSeen = new Map<string, string>();

  const visit = (name: string, body: unknown, parent: string | null, where: string) => {
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new ImportProblem(`${where}: '${name.slice(0, 60)}' is not a group name (letters, digits, '_' and '-')`);
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { hosts: new Map(), vars: bag(), parents: new Set(), where }));
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
  if (!groups.has('all')) groups.set('all', { hosts: new Map(), vars: bag(), parents: new Set(), where: "all" });

  const depth = new Map<string, number>([['all', 0]]);
  const depthOf = (name: string, seen: string[] = []): number => {
    if (depth.has(name)) return depth.get(name)!;
    if (seen.includes(name)) throw new ImportProblem(`group ${name} is its own ancestor (${[...seen, name].join(' → ')})`);
    const ps = [...groups.get(name)!.parents];
    const d = 1 + Math.max(0, ...ps.map((p) => depthOf(p, [...seen, name])));
    depth.set(name, d);
    return d;
  };
  for (const name of groups.keys()) depthOf(name);
  const ancestors = (name: string, acc: Set<string>): Set<string> => {
    acc.add(name);
    for (const p of groups.get(name)!.parents) if (!acc.has(p)) ancestors(p, acc);
    return acc;
  };
  return order.map((host) => {
    const all = new Set<string>(['all']);
    for (const [n, g] of groups) if (g.hosts.has(host)) ancestors(n, all);
    const inOrder = [...all].sort((a, b) => depthOf(a) - depthOf(b) || a.localeCompare(b));
    const vars = bag();
    // Ansible's precedence: the file's group vars, then group_vars/ files (all first), then the file's host vars,
    // then host_vars/ files; among groups the parent before the child.
    for (const g of inOrder) Object.assign(vars, groups.get(g)!.vars);
    for (const g of inOrder) Object.assign(vars, layer?.group(g) ?? {});
    for (const g of inOrder) Object.assign(vars, groups.get(g)!.hosts.get(host) ?? {});
    Object.assign(vars, layer?.host(host) ?? {});
    return { name: host, vars, groups: inOrder.filter((g) => g !== 'all' && g !== 'ungrouped'), where: firstSeen.get(host)! };
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
