import { ImportProblem, bag, type ImportedHost, type VarLayer } from './imported.js';

/** One Ansible group as either inventory form declares it. */
export interface AnsibleGroup {
  /** Hosts listed in this group, with the variables given on their line (or under their name). */
  hosts: Map<string, Record<string, unknown>>;
  vars: Record<string, unknown>;
  /** Groups that list this one as a child; none means a child of `all`. */
  parents: Set<string>;
}

/**
 * Hosts with their merged variables and groups, as Ansible merges them for both the INI and the YAML form: `all`,
 * then groups from the outermost parent to the innermost child (same depth: by name), each layer in this order —
 * the file's group vars, `group_vars/` files, the file's host vars, `host_vars/` files. A host listed under a named
 * group is not in `ungrouped`. `hosts` is the order hosts first appear in; `where` names that place.
 */
export function mergeAnsibleGroups(groups: Map<string, AnsibleGroup>, hosts: string[], where: (host: string) => string, layer?: VarLayer): ImportedHost[] {
  if (!groups.has('all')) groups.set('all', { hosts: new Map(), vars: bag(), parents: new Set() });
  const parentsOf = (name: string): string[] => (name === 'all' ? [] : groups.get(name)!.parents.size ? [...groups.get(name)!.parents] : ['all']);
  const depth = new Map<string, number>([['all', 0]]);
  const depthOf = (name: string, seen: string[] = []): number => {
    if (depth.has(name)) return depth.get(name)!;
    if (seen.includes(name)) throw new ImportProblem(`group ${name} is its own ancestor (${[...seen, name].join(' → ')})`);
    const d = 1 + Math.max(...parentsOf(name).map((p) => depthOf(p, [...seen, name])));
    depth.set(name, d);
    return d;
  };
  for (const name of groups.keys()) depthOf(name);
  const ancestors = (name: string, acc: Set<string>): Set<string> => {
    acc.add(name);
    for (const p of parentsOf(name)) if (!acc.has(p)) ancestors(p, acc);
    return acc;
  };

  return hosts.map((host) => {
    const direct = [...groups].filter(([, g]) => g.hosts.has(host)).map(([n]) => n);
    const all = new Set<string>(['all']);
    for (const d of direct) ancestors(d, all);
    if (direct.some((d) => d !== 'ungrouped')) all.delete('ungrouped');
    const inOrder = [...all].sort((a, b) => depthOf(a) - depthOf(b) || a.localeCompare(b));
    const vars = bag();
    for (const g of inOrder) Object.assign(vars, groups.get(g)!.vars);
    for (const g of inOrder) Object.assign(vars, layer?.group(g) ?? {});
    for (const g of inOrder) Object.assign(vars, groups.get(g)!.hosts.get(host) ?? {});
    Object.assign(vars, layer?.host(host) ?? {});
    return { name: host, vars, groups: inOrder.filter((g) => g !== 'all' && g !== 'ungrouped'), where: where(host) };
  });
}
