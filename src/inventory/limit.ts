import { RdpfixError } from '../errors.js';
import { readSmallTextFile } from '../read-file.js';
import { excerpt } from '../safe-text.js';

/**
 * `--limit` patterns as Ansible has them (https://docs.ansible.com/ansible/latest/inventory_guide/intro_patterns.html):
 * terms separated by `:` or `,`; a term is a host name, a group name, a glob of either (`web*`, `db-??`), `all`/`*`,
 * `tag:NAME` (rdpfix's tags), or `@FILE` (host names, one per line, like Ansible's retry files). `&term` intersects
 * and `!term` excludes. As in Ansible, unions are taken first, then intersections, then exclusions, whatever the
 * order written. Matching ignores case. A term without wildcards that matches nothing is a typo: an error naming
 * it; so is a pattern that selects no host.
 */
export interface Selectable {
  name: string;
  groups?: string[];
  tags?: string[];
}

interface Term {
  op: 'union' | 'intersect' | 'exclude';
  text: string;
}

export function selectByLimit<T extends Selectable>(hosts: T[], pattern: string, source: string): T[] {
  const terms = parseLimit(pattern);
  const matchTerm = (t: Term): Set<T> => {
    const found = new Set(matching(hosts, t.text));
    if (!found.size && !/[*?]/.test(t.text)) {
      throw new RdpfixError('usage', `--limit ${excerpt(pattern, 200)}: '${excerpt(t.text, 120)}' matches no host, group or tag in ${source}.`, 'Check the spelling; rdpfix inventory show lists hosts and groups.');
    }
    return found;
  };
  const unions = terms.filter((t) => t.op === 'union');
  let selected = new Set<T>(unions.length ? unions.flatMap((t) => [...matchTerm(t)]) : hosts);
  for (const t of terms.filter((x) => x.op === 'intersect')) {
    const other = matchTerm(t);
    selected = new Set([...selected].filter((h) => other.has(h)));
  }
  for (const t of terms.filter((x) => x.op === 'exclude')) {
    const other = matchTerm(t);
    selected = new Set([...selected].filter((h) => !other.has(h)));
  }
  const out = hosts.filter((h) => selected.has(h));
  if (!out.length) throw new RdpfixError('usage', `--limit ${excerpt(pattern, 200)} selects no host in ${source}.`, 'rdpfix inventory show lists hosts and groups; patterns: name, group, web*, tag:NAME, @file, &intersect, !exclude.');
  return out;
}

export function parseLimit(pattern: string): Term[] {
  const terms = pattern.split(/[:,]/).map((t) => t.trim());
  if (!pattern.trim() || terms.some((t) => !t || t === '!' || t === '&')) {
    throw new RdpfixError('usage', `--limit '${excerpt(pattern, 200)}' has an empty term.`, "Separate terms with ':' or ',', e.g. --limit 'web*:&prod:!web03'.");
  }
  // `tag:NAME` is one term, though ':' separates terms: rejoin it.
  const joined: string[] = [];
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i]!;
    if (/^[!&]?tag$/i.test(t) && i + 1 < terms.length) joined.push(`${t}:${terms[++i]}`);
    else joined.push(t);
  }
  return joined.map((t) => (t.startsWith('!') ? { op: 'exclude', text: t.slice(1) } : t.startsWith('&') ? { op: 'intersect', text: t.slice(1) } : { op: 'union', text: t }));
}

function matching<T extends Selectable>(hosts: T[], text: string): T[] {
  if (text === 'all' || text === '*') return hosts;
  if (text.startsWith('@')) {
    const file = text.slice(1);
    const names = new Set(readSmallTextFile(file, 'host list', 'Give a file of host names, one per line.').split(/\r?\n/).map((l) => l.replace(/#.*$/, '').trim().toLowerCase()).filter(Boolean));
    return hosts.filter((h) => names.has(h.name.toLowerCase()));
  }
  const tag = /^tag:(.+)$/i.exec(text);
  if (tag) {
    const re = glob(tag[1]!);
    return hosts.filter((h) => (h.tags ?? []).some((t) => re.test(t)));
  }
  const re = glob(text);
  return hosts.filter((h) => re.test(h.name) || (h.groups ?? []).some((g) => re.test(g)));
}

function glob(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
}
