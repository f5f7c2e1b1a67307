import { expandHostPattern } from './host-patterns.js';
import { mergeAnsibleGroups, type AnsibleGroup } from './ansible-groups.js';
import { ImportProblem, bag, type ImportedHost, type VarLayer } from './imported.js';

/**
 * An Ansible INI inventory (https://docs.ansible.com/ansible/latest/inventory_guide/intro_inventory.html):
 * `[group]` host lines (`name key=value ...`, `name:port`, ranges), `[group:vars]`, `[group:children]`; hosts
 * before any section are `ungrouped`; every host is in `all`. Variables merge as Ansible merges them
 * (`mergeAnsibleGroups`).
 */
export function parseAnsibleIni(text: string, layer?: VarLayer): ImportedHost[] {
  interface Group { hosts: Map<string, Record<string, unknown>>; vars: Record<string, unknown>; children: Set<string> }
  const groups = new Map<string, Group>();
  const group = (name: string) => {
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { hosts: new Map(), vars: bag(), children: new Set() }));
    return g;
  };
  const firstLine = new Map<string, number>();
  const order: string[] = [];
  group('all');
  group('ungrouped');
  let section: { name: string; kind: 'hosts' | 'vars' | 'children' } = { name: 'ungrouped', kind: 'hosts' };

  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    const lineNo = i + 1;
    const line = stripComment(raw).trim();
    if (!line) return;
    const header = /^\[([^\]]*)\]$/.exec(line);
    if (header) {
      const [name, kind = 'hosts', ...extra] = header[1]!.trim().split(':');
      if (!name || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) || extra.length || !['hosts', 'vars', 'children'].includes(kind)) {
        throw new ImportProblem(`line ${lineNo}: [${excerptOf(header[1]!)}] is not a section (use [group], [group:vars] or [group:children]; group names are letters, digits, '_' and '-')`);
      }
      group(name);
      section = { name, kind: kind as 'hosts' | 'vars' | 'children' };
      return;
    }
    const g = group(section.name);
    if (section.kind === 'vars') {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
      if (!m) throw new ImportProblem(`line ${lineNo}: [${section.name}:vars] takes lines of the form name=value`);
      g.vars[m[1]!] = unquote(m[2]!.trim());
      return;
    }
    if (section.kind === 'children') {
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(line)) throw new ImportProblem(`line ${lineNo}: [${section.name}:children] lists group names, one per line`);
      group(line);
      g.children.add(line);
      return;
    }
    const [pattern, ...assignments] = splitWords(line, lineNo);
    const vars = bag();
    for (const a of assignments) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(a);
      if (!m) throw new ImportProblem(`line ${lineNo}: '${excerptOf(a)}' is not a variable (host lines are: name key=value ...)`);
      vars[m[1]!] = unquote(m[2]!);
    }
    // `host:2222` is the host's port, as in Ansible (not for IPv6 addresses, which have several colons).
    let name = pattern!;
    const port = /^([^:]+):(\d+)$/.exec(name);
    if (port) {
      name = port[1]!;
      vars.ansible_port = Number(port[2]);
    }
    let names: string[];
    try {
      names = expandHostPattern(name);
    } catch (err) {
      throw new ImportProblem(`line ${lineNo}: ${(err as Error).message}`);
    }
    for (const n of names) {
      if (!firstLine.has(n)) {
        firstLine.set(n, lineNo);
        order.push(n);
      }
      g.hosts.set(n, Object.assign(g.hosts.get(n) ?? bag(), vars));
    }
  });

  // A child listed under a group that is not defined anywhere else is an empty group, as in Ansible.
  const table = new Map<string, AnsibleGroup>([...groups].map(([name, g]) => [name, { hosts: g.hosts, vars: g.vars, parents: new Set<string>() }]));
  for (const [name, g] of groups) for (const c of g.children) table.get(c)!.parents.add(name);
  return mergeAnsibleGroups(table, order, (host) => `line ${firstLine.get(host)}`, layer);
}

/** `#` and `;` start a comment at the line's start; `#` also after whitespace, outside quotes. */
function stripComment(line: string): string {
  if (/^\s*[#;]/.test(line)) return '';
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/** Splits a host line on whitespace, keeping quoted values (`x="a b"`) whole. */
function splitWords(line: string, lineNo: number): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  for (const c of line) {
    if (quote) {
      word += c;
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
      word += c;
    } else if (/\s/.test(c)) {
      if (word) words.push(word);
      word = '';
    } else word += c;
  }
  if (quote) throw new ImportProblem(`line ${lineNo}: a quote is not closed`);
  if (word) words.push(word);
  return words;
}

function unquote(value: string): string {
  const m = /^(["'])(.*)\1$/s.exec(value);
  return m ? m[2]! : value;
}

const excerptOf = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}…` : s).replace(/[\u0000-\u001f\u007f]/g, '?');
