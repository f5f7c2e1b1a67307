import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { withPrelude } from './prelude.js';
import { RdpfixError } from '../errors.js';
import { YAML_READ_OPTIONS, escapeControl, excerpt, yamlNestingProblem, yamlProblem } from '../safe-text.js';
import { boundedMatch, patternProblem } from './safe-pattern.js';

/**
 * A playbook is a folder: playbook.yaml (this schema) plus its standalone .ps1 script(s), named for each step phase.
 * docs/playbooks.md documents the format; `rdpfix playbooks validate DIR` checks it.
 */
export const PHASES = ['check', 'capture', 'apply', 'verify', 'undo'] as const;
export type Phase = (typeof PHASES)[number];

const id = z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'must be lower-case letters, digits and hyphens, starting with a letter');
const scriptFile = z.string().regex(/^[A-Za-z0-9._-]+\.ps1$/, 'must be a .ps1 file name in the playbook folder');

const parameter = z.discriminatedUnion('type', [
  z.object({ type: z.literal('integer'), description: z.string(), default: z.number().int().optional(), min: z.number().int().optional(), max: z.number().int().optional() }).strict(),
  z.object({ type: z.literal('boolean'), description: z.string(), default: z.boolean().optional() }).strict(),
  z.object({ type: z.literal('string'), description: z.string(), default: z.string().optional(), pattern: z.string().optional(), enum: z.array(z.string()).optional() }).strict(),
  z.object({ type: z.literal('string[]'), description: z.string(), default: z.array(z.string()).optional(), pattern: z.string().optional() }).strict(),
]);
export type ParameterSpec = z.infer<typeof parameter>;

/** The key that asked for a revert task before `revertTask`; playbooks written with it still load. */
const DEPRECATED_REVERT_TASK_KEY = 'guard';
const revertTask = z
  .object({ ttlMinutes: z.union([z.number().int().min(1).max(10080), z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/)]), expires: z.boolean().default(false) })
  .strict();

const step = z
  .object({
    id,
    title: z.string().min(1),
    check: scriptFile,
    capture: scriptFile.optional(),
    apply: scriptFile,
    verify: scriptFile,
    undo: scriptFile.optional(),
    /** Irreversible steps (e.g. logging a session off) have no undo and run only with --allow-irreversible. */
    irreversible: z.boolean().default(false),
    /** Whether check can tell the outcome in advance; a plan says so when it cannot. */
    predictable: z.boolean().default(true),
    timeoutSeconds: z.number().int().min(1).max(3600).default(120),
    /**
     * Lockout-prone or security-weakening steps: before apply, a SYSTEM scheduled task is armed on the host that
     * runs this step's undo after `ttlMinutes` (a number, or the name of an integer parameter). After verify, the
     * controller confirms over a new remoting session and a fresh RDP port probe, then disarms the task; a step
     * that `expires` (e.g. NLA off) keeps it armed, so the change reverts itself at the TTL in any case.
     */
    revertTask: revertTask.optional(),
    /** Deprecated alias of `revertTask` (its name before "guard" came to mean only an XState guard): still read. */
    [DEPRECATED_REVERT_TASK_KEY]: revertTask.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.revertTask && s[DEPRECATED_REVERT_TASK_KEY]) {
      ctx.addIssue({ code: 'custom', path: [DEPRECATED_REVERT_TASK_KEY], message: `both revertTask and its deprecated alias '${DEPRECATED_REVERT_TASK_KEY}' are given (keep revertTask only)` });
    }
    const task = s.revertTask ?? s[DEPRECATED_REVERT_TASK_KEY];
    if (task && s.irreversible) ctx.addIssue({ code: 'custom', path: [s.revertTask ? 'revertTask' : DEPRECATED_REVERT_TASK_KEY], message: 'an irreversible step cannot have a revert task: the task runs its undo' });
    if (!s.irreversible && (!s.capture || !s.undo)) ctx.addIssue({ code: 'custom', message: 'a reversible step needs both capture and undo scripts (or irreversible: true)' });
    if (s.irreversible && s.undo) ctx.addIssue({ code: 'custom', path: ['undo'], message: 'an irreversible step cannot have an undo script' });
  })
  // Past this point only `revertTask` exists: the alias is read, never passed on.
  .transform(({ [DEPRECATED_REVERT_TASK_KEY]: alias, ...s }) => {
    const task = s.revertTask ?? alias;
    return { ...s, ...(task ? { revertTask: task } : {}) };
  });
export type StepSpec = z.infer<typeof step>;

const manifest = z
  .object({
    id,
    version: z.number().int().min(1),
    title: z.string().min(1),
    description: z.string().min(1),
    causes: z.array(z.string().min(1)).min(1),
    risk: z.enum(['low', 'medium', 'high']),
    parameters: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'parameter names are letters and digits'), parameter).default({}),
    order: z.object({ after: z.array(id).default([]), before: z.array(id).default([]) }).strict().default({}),
    steps: z.array(step).min(1),
  })
  .strict();

export interface Playbook {
  id: string;
  version: number;
  title: string;
  description: string;
  causes: string[];
  risk: 'low' | 'medium' | 'high';
  parameters: Record<string, ParameterSpec>;
  order: { after: string[]; before: string[] };
  steps: StepSpec[];
  dir: string;
  /** sha256 over the manifest and every script: a run refuses to resume with a changed playbook. */
  digest: string;
  /** Script text by file name. */
  scripts: Record<string, string>;
}

/** A playbook folder checked: the playbook when it is usable, and every problem found (file: field: what). */
export interface PlaybookInspection {
  dir: string;
  playbook?: Playbook;
  problems: string[];
  /** Script files that were read (regular files inside the folder), for checks that parse them. */
  scriptFiles: string[];
}

/** How many schema problems one manifest reports at most (the rest are counted). */
const MAX_SCHEMA_PROBLEMS = 20;

/**
 * Checks one playbook folder completely, collecting every problem instead of stopping at the first:
 * the manifest (YAML, schema, ids, defaults, patterns, revert tasks) and each script it names (present, a
 * regular file, inside the folder even through links, small enough to send).
 */
export function inspectPlaybook(dir: string): PlaybookInspection {
  const file = path.join(dir, 'playbook.yaml');
  const problems: string[] = [];
  const scriptFiles: string[] = [];
  const problem = (where: string, what: string) => problems.push(`${file}: ${where ? `${where}: ` : ''}${what}`);
  const manifestText = readInside(dir, 'playbook.yaml');
  if ('problem' in manifestText) {
    problems.push(`${file}: ${manifestText.problem}`);
    return { dir, problems, scriptFiles };
  }
  const text = manifestText.text;
  let raw: unknown;
  const tooDeep = yamlNestingProblem(text);
  if (tooDeep) {
    problem('', `not valid YAML: ${tooDeep}`);
    return { dir, problems, scriptFiles };
  }
  try {
    raw = parseYaml(text, YAML_READ_OPTIONS);
  } catch (err) {
    problem('', `not valid YAML: ${yamlProblem(err)}`);
    return { dir, problems, scriptFiles };
  }
  let parsed: z.SafeParseReturnType<unknown, z.infer<typeof manifest>>;
  try {
    parsed = manifest.safeParse(raw);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    problem('', 'nested too deeply');
    return { dir, problems, scriptFiles };
  }
  if (!parsed.success) {
    const issues = parsed.error.issues;
    for (const issue of issues.slice(0, MAX_SCHEMA_PROBLEMS)) problem(excerpt(issue.path.join('.'), 120) || '(top level)', excerpt(issue.message, 400));
    if (issues.length > MAX_SCHEMA_PROBLEMS) problem('', `and ${issues.length - MAX_SCHEMA_PROBLEMS} more problems`);
    return { dir, problems, scriptFiles };
  }
  const m = parsed.data;
  if (path.basename(dir) !== m.id) problem('id', `'${m.id}' does not match the folder name '${escapeControl(path.basename(dir))}' (name the folder after the playbook id)`);
  const stepIds = new Set<string>();
  const scripts: Record<string, string> = {};
  const unreadable = new Set<string>();
  const hash = createHash('sha256').update(text);
  m.steps.forEach((s, i) => {
    if (stepIds.has(s.id)) problem(`steps.${i}.id`, `'${s.id}' is used twice (give every step its own id)`);
    stepIds.add(s.id);
    for (const phase of PHASES) {
      const name = s[phase];
      if (!name || scripts[name] !== undefined || unreadable.has(name)) continue;
      const read = readInside(dir, name);
      if ('problem' in read) {
        unreadable.add(name);
        problem(`steps.${i}.${phase}`, `script '${name}' ${read.problem}`);
      } else {
        // As sent: with the shared prelude, so the digest covers it too.
        scripts[name] = withPrelude(read.text);
        scriptFiles.push(path.join(dir, name));
      }
    }
  });
  for (const name of Object.keys(scripts).sort()) hash.update(`\0${name}\0${scripts[name]}`);
  for (const [name, spec] of Object.entries(m.parameters)) {
    if ((spec.type === 'string' || spec.type === 'string[]') && spec.pattern !== undefined) {
      const bad = patternProblem(spec.pattern);
      if (bad) {
        problem(`parameters.${name}.pattern`, bad);
        continue; // its default cannot be checked against it
      }
    }
    if (spec.default !== undefined) {
      const bad = parameterProblem(spec, spec.default);
      if (bad) problem(`parameters.${name}.default`, `${bad} (make the default satisfy its own constraints)`);
    }
  }
  m.steps.forEach((s, i) => {
    const ttl = s.revertTask?.ttlMinutes;
    if (typeof ttl === 'string' && m.parameters[ttl]?.type !== 'integer') {
      // Named by the key the file uses (revertTask, or its deprecated alias).
      const key = revertTaskKeyOf(raw, i);
      problem(`steps.${i}.${key}.ttlMinutes`, `'${ttl}' is not an integer parameter of this playbook (give a number of minutes or the name of an integer parameter)`);
    }
  });
  for (const other of [...m.order.after, ...m.order.before]) {
    if (other === m.id) problem('order', `'${other}' is this playbook itself`);
  }
  if (problems.length) return { dir, problems, scriptFiles };
  return { dir, problems, scriptFiles, playbook: { ...m, dir, digest: hash.digest('hex'), scripts } };
}

/** Largest script or manifest rdpfix reads from a playbook folder (scripts travel to every host). */
const MAX_PLAYBOOK_FILE_BYTES = 1024 * 1024;

/**
 * A file of a playbook folder, read only when it is a regular file whose real path is inside the folder: a
 * script that is a link to /etc/shadow would otherwise be read and sent to every host.
 */
function readInside(dir: string, name: string): { text: string } | { problem: string } {
  const p = path.join(dir, name);
  let st;
  try {
    st = lstatSync(p);
  } catch {
    return { problem: `does not exist in ${dir}` };
  }
  let real = p;
  if (st.isSymbolicLink()) {
    try {
      real = realpathSync(p);
      const folder = realpathSync(dir);
      const rel = path.relative(folder, real);
      if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return { problem: `is a link to ${escapeControl(real)}, outside the playbook folder` };
      st = statSync(real);
    } catch {
      return { problem: 'is a dangling link' };
    }
  }
  if (st.isDirectory()) return { problem: 'is a folder, not a file' };
  if (!st.isFile()) return { problem: 'is not a regular file' };
  if (st.size > MAX_PLAYBOOK_FILE_BYTES) return { problem: `is ${st.size} bytes; the limit is ${MAX_PLAYBOOK_FILE_BYTES}` };
  try {
    return { text: readFileSync(real, 'utf8') };
  } catch (err) {
    return { problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

/** One playbook folder, or an input error listing its problems. */
export function loadPlaybook(dir: string): Playbook {
  const inspection = inspectPlaybook(dir);
  if (!inspection.playbook) throw problemsError(inspection.problems, 'See docs/playbooks.md for the manifest format, and run `rdpfix playbooks validate` on the folder.');
  return inspection.playbook;
}

function problemsError(problems: string[], fix: string): RdpfixError {
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}; \`rdpfix playbooks validate\` lists them all)` : '';
  return new RdpfixError('input', `${problems[0]}${more}.`, fix);
}

/** Why a value does not fit a parameter spec, or null when it does. */
export function parameterProblem(spec: ParameterSpec, value: unknown): string | null {
  switch (spec.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return 'must be a whole number';
      if (spec.min !== undefined && value < spec.min) return `must be at least ${spec.min}`;
      if (spec.max !== undefined && value > spec.max) return `must be at most ${spec.max}`;
      return null;
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (spec.enum && !spec.enum.includes(value)) return `must be one of ${spec.enum.join(', ')}`;
      return spec.pattern === undefined ? null : patternMismatch(spec.pattern, value);
    case 'string[]':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return 'must be a list of strings';
      if (spec.pattern !== undefined) {
        for (const v of value as string[]) {
          const bad = patternMismatch(spec.pattern, v);
          if (bad) return `item '${excerpt(v, 80, { trim: false })}' ${bad}`; // as given: blanks may be the problem
        }
      }
      return null;
  }
}

/** Why a value fails a parameter pattern (risky patterns are never run), or null. */
function patternMismatch(pattern: string, value: string): string | null {
  const risky = patternProblem(pattern);
  if (risky) return `cannot be checked: the playbook's pattern ${risky}`;
  const matched = boundedMatch(pattern, value);
  if (matched === 'timeout') return `could not be checked against ${pattern} in time (the pattern backtracks too much)`;
  return matched ? null : `must match ${pattern}`;
}

/** The playbooks in several folders, checked as one catalogue, with every problem found. */
export interface CatalogueInspection {
  playbooks: Map<string, Playbook>;
  problems: string[];
  scriptFiles: string[];
}

/**
 * Every playbook folder under each directory (a directory that is itself a playbook counts as one), checked
 * as a catalogue: later directories may not redefine an id, order hints must name known playbooks and must
 * not form a cycle. `knownIds` are ids from elsewhere (built-ins) that order hints may name.
 */
export function inspectCatalogue(dirs: string[], knownIds: Iterable<string> = []): CatalogueInspection {
  const all = new Map<string, Playbook>();
  const problems: string[] = [];
  const scriptFiles: string[] = [];
  for (const dir of dirs) {
    let entries: string[];
    try {
      if (!statSync(dir).isDirectory()) throw new Error('not a folder');
      entries = existsSync(path.join(dir, 'playbook.yaml')) ? [''] : readdirSync(dir).sort();
    } catch {
      problems.push(`Playbook folder ${dir} does not exist or is not a folder`);
      continue;
    }
    for (const entry of entries) {
      const sub = entry ? path.join(dir, entry) : dir;
      let st;
      try {
        st = statSync(sub);
      } catch {
        if (lstatSafe(sub)?.isSymbolicLink()) problems.push(`${sub}: is a dangling link`);
        continue;
      }
      if (!st.isDirectory() || !lstatSafe(path.join(sub, 'playbook.yaml'))) continue;
      const { playbook, problems: own, scriptFiles: files } = inspectPlaybook(sub);
      problems.push(...own);
      scriptFiles.push(...files);
      if (!playbook) continue;
      const clash = all.get(playbook.id);
      if (clash) {
        problems.push(`Playbook id '${playbook.id}' is defined twice: ${clash.dir} and ${playbook.dir} (rename one of them)`);
        continue;
      }
      all.set(playbook.id, playbook);
    }
  }
  const known = new Set([...all.keys(), ...knownIds]);
  for (const pb of all.values()) {
    for (const other of [...pb.order.after, ...pb.order.before]) {
      if (!known.has(other)) problems.push(`${path.join(pb.dir, 'playbook.yaml')}: order: unknown playbook '${other}' (order hints name playbook ids of the catalogue)`);
    }
  }
  try {
    orderPlaybooks([...all.values()]);
  } catch (err) {
    if (!(err instanceof RdpfixError)) throw err;
    problems.push(err.message.replace(/\.$/, ''));
  }
  return { playbooks: all, problems, scriptFiles };
}

function lstatSafe(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** Loads every playbook folder under each directory, or an input error naming the first problem (and how many more). */
export function loadCatalogue(dirs: string[]): Map<string, Playbook> {
  const { playbooks, problems } = inspectCatalogue(dirs);
  if (problems.length) throw problemsError(problems, 'Check --playbooks and `rdpfix config get playbookDirs`; `rdpfix playbooks validate DIR` lists every problem of a folder.');
  return playbooks;
}

/** The key step `i` of a raw manifest asks for its revert task with. */
function revertTaskKeyOf(raw: unknown, i: number): string {
  const steps = (raw as { steps?: unknown } | null)?.steps;
  const rawStep = Array.isArray(steps) ? (steps[i] as Record<string, unknown> | null) : null;
  return rawStep && typeof rawStep === 'object' && DEPRECATED_REVERT_TASK_KEY in rawStep ? DEPRECATED_REVERT_TASK_KEY : 'revertTask';
}

/** The TTL of a step's revert task, in minutes, with the run's resolved parameters. */
export function revertTaskTtlMinutes(s: StepSpec, parameters: Record<string, unknown>): number | null {
  if (!s.revertTask) return null;
  const ttl = s.revertTask.ttlMinutes;
  return typeof ttl === 'number' ? ttl : Number(parameters[ttl]);
}

/** Resolves user parameters (`name=value` strings) against a playbook's specs, defaults filled in. */
export function resolveParameters(pb: Playbook, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!pb.parameters[name]) throw new RdpfixError('usage', `Playbook ${pb.id} has no parameter '${name}'.`, `Its parameters: ${Object.keys(pb.parameters).join(', ') || 'none'}.`);
  }
  for (const [name, spec] of Object.entries(pb.parameters)) {
    const value = name in given ? given[name] : spec.default;
    if (value === undefined) throw new RdpfixError('usage', `Playbook ${pb.id} needs parameter '${name}' (${spec.description}).`, `Pass --param ${pb.id}.${name}=VALUE.`);
    const problem = parameterProblem(spec, value);
    if (problem) throw new RdpfixError('usage', `Parameter ${pb.id}.${name} ${problem} (got ${JSON.stringify(value)}).`, spec.description);
    out[name] = value;
  }
  return out;
}

/** Orders playbooks so that every `after`/`before` hint holds; a cycle is an error. */
export function orderPlaybooks(selected: Playbook[]): Playbook[] {
  const ids = new Set(selected.map((p) => p.id));
  const edges = new Map<string, Set<string>>(selected.map((p) => [p.id, new Set<string>()]));
  for (const p of selected) {
    for (const a of p.order.after) if (ids.has(a)) edges.get(p.id)!.add(a);
    for (const b of p.order.before) if (ids.has(b)) edges.get(b)!.add(p.id);
  }
  const done: Playbook[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const byId = new Map(selected.map((p) => [p.id, p]));
  const visit = (id: string, trail: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new RdpfixError('input', `Playbook order hints form a cycle: ${[...trail, id].join(' → ')}.`, 'Fix the order.after/order.before hints.');
    state.set(id, 'visiting');
    for (const dep of [...edges.get(id)!].sort()) visit(dep, [...trail, id]);
    state.set(id, 'done');
    done.push(byId.get(id)!);
  };
  for (const p of selected) visit(p.id, []);
  return done;
}
