import { existsSync, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { readSmallTextFile } from '../../read-file.js';
import { YAML_READ_OPTIONS, yamlNestingProblem, yamlProblem } from '../../safe-text.js';
import { parseAnsibleIni } from './ansible-ini.js';
import { isAnsibleYaml, parseAnsibleYaml } from './ansible-yaml.js';
import { parseCsv } from './csv.js';
import { ImportProblem, bag, type InventoryFormat, type VarLayer } from './imported.js';
import { fromAnsible, fromCsv, fromList, type Imported } from './to-rdpfix.js';

/**
 * Which format an inventory is in. By extension first (.csv, .ini/.cfg, .txt/.list, .yaml/.yml/.json), else by
 * content: `[group]` lines → Ansible INI; a YAML mapping with `version` → rdpfix, with groups (`all:`) → Ansible
 * YAML; a header line with commas → CSV; otherwise a plain list of names (or host lines of an INI inventory).
 */
export function detectFormat(text: string, file: string): InventoryFormat {
  return sniffInventory(text, file).format;
}

/** An inventory's format, with the YAML document when telling the format needed it parsed (so it is parsed once). */
export interface SniffedInventory {
  format: InventoryFormat;
  doc?: unknown;
}

export function sniffInventory(text: string, file: string): SniffedInventory {
  const of = (format: InventoryFormat): SniffedInventory => ({ format });
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return of('csv');
  if (ext === '.ini' || ext === '.cfg') return of('ansible-ini');
  if (ext === '.txt' || ext === '.list') return of('list');
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !l.startsWith(';'));
  if (ext !== '.yaml' && ext !== '.yml' && ext !== '.json') {
    if (lines.some((l) => /^\[[^\]]+\]$/.test(l))) return of('ansible-ini');
    if (lines.some((l) => /^\S+(\s+[A-Za-z_][A-Za-z0-9_]*=\S*)+$/.test(l))) return of('ansible-ini');
    if (lines[0] && lines[0].includes(',') && !lines[0].includes(':')) return of('csv');
    if (lines.length && lines.every((l) => /^[^\s:{}[\],]+$/.test(l))) return of('list');
  }
  // Too deep for the parser's stack (or its memory): the rdpfix reader refuses it with the line, before parsing.
  if (yamlNestingProblem(text)) return of('rdpfix');
  let doc: unknown;
  try {
    doc = parseYaml(text, YAML_READ_OPTIONS);
  } catch {
    return of('rdpfix'); // the rdpfix reader reports the YAML error with its line
  }
  return { format: isAnsibleYaml(doc) ? 'ansible-yaml' : 'rdpfix', doc };
}

/** Reads an inventory of another format into rdpfix host entries, with notes on what it did not use. */
export function importInventory(text: string, file: string, format: Exclude<InventoryFormat, 'rdpfix'>, parsedDoc?: unknown): Imported {
  switch (format) {
    case 'list':
      return fromList(text);
    case 'csv':
      return fromCsv(parseCsv(text));
    case 'ansible-ini': {
      const { layer, notes } = varFolders(file);
      const r = fromAnsible(parseAnsibleIni(text, layer));
      return { entries: r.entries, notes: [...notes, ...r.notes] };
    }
    case 'ansible-yaml': {
      const doc = parsedDoc === undefined ? parseYamlDocument(text) : parsedDoc;
      const { layer, notes } = varFolders(file);
      const r = fromAnsible(parseAnsibleYaml(doc as Record<string, unknown>, layer));
      return { entries: r.entries, notes: [...notes, ...r.notes] };
    }
  }
}

function parseYamlDocument(text: string): unknown {
  const tooDeep = yamlNestingProblem(text);
  if (tooDeep) throw new ImportProblem(`not valid YAML: ${tooDeep}`);
  try {
    return parseYaml(text, YAML_READ_OPTIONS);
  } catch (err) {
    throw new ImportProblem(`not valid YAML: ${yamlProblem(err)}`);
  }
}

/**
 * `group_vars/` and `host_vars/` beside the inventory, as Ansible reads them: `<name>`, `<name>.yml`, `.yaml`,
 * `.json`, or a folder `<name>/` of such files. Only regular files are read (no links); vault-encrypted files are
 * skipped with a note (rdpfix reads no secrets from files).
 */
function varFolders(file: string): { layer: VarLayer; notes: string[] } {
  const notes: string[] = [];
  const dir = file === '-' ? null : path.dirname(path.resolve(file));
  const load = (kind: 'group_vars' | 'host_vars') => {
    const out = new Map<string, Record<string, unknown>>();
    if (!dir) return out;
    const base = path.join(dir, kind);
    if (!existsSync(base) || !lstatSync(base).isDirectory()) return out;
    for (const entry of readdirSync(base, { withFileTypes: true })) {
      const files = entry.isDirectory()
        ? readdirSync(path.join(base, entry.name), { withFileTypes: true }).filter((f) => f.isFile() && /\.(ya?ml|json)$/i.test(f.name)).map((f) => path.join(base, entry.name, f.name)).sort()
        : entry.isFile() ? [path.join(base, entry.name)] : [];
      const name = entry.isDirectory() ? entry.name : entry.name.replace(/\.(ya?ml|json)$/i, '');
      for (const f of files) {
        const text = readSmallTextFile(f, `${kind} file`, `Fix or remove ${f}.`);
        if (text.startsWith('$ANSIBLE_VAULT')) {
          notes.push(`${path.relative(dir, f)} is vault-encrypted and was not read (rdpfix reads no secrets from files).`);
          continue;
        }
        const tooDeep = yamlNestingProblem(text);
        if (tooDeep) throw new ImportProblem(`${path.relative(dir, f)}: not valid YAML: ${tooDeep}`);
        let doc: unknown;
        try {
          doc = parseYaml(text, YAML_READ_OPTIONS);
        } catch (err) {
          throw new ImportProblem(`${path.relative(dir, f)}: not valid YAML: ${yamlProblem(err)}`);
        }
        if (doc === null || doc === undefined) continue;
        if (typeof doc !== 'object' || Array.isArray(doc)) throw new ImportProblem(`${path.relative(dir, f)}: must be a mapping of variables`);
        out.set(name, Object.assign(out.get(name) ?? bag(), doc));
      }
    }
    return out;
  };
  const groups = load('group_vars');
  const hosts = load('host_vars');
  return { layer: { group: (g) => groups.get(g), host: (h) => hosts.get(h) }, notes };
}
