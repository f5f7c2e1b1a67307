import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { withPrelude } from './prelude.js';
import { RdpfixError } from '../errors.js';

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
    guard: z
      .object({ ttlMinutes: z.union([z.number().int().min(1).max(10080), z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/)]), expires: z.boolean().default(false) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.guard && s.irreversible) ctx.addIssue({ code: 'custom', path: ['guard'], message: 'an irreversible step cannot be guarded: the guard runs its undo' });
    if (!s.irreversible && (!s.capture || !s.undo)) ctx.addIssue({ code: 'custom', message: 'a reversible step needs both capture and undo scripts (or irreversible: true)' });
    if (s.irreversible && s.undo) ctx.addIssue({ code: 'custom', path: ['undo'], message: 'an irreversible step cannot have an undo script' });
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

export function loadPlaybook(dir: string): Playbook {
  const file = path.join(dir, 'playbook.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new RdpfixError('input', `${file}: missing.`, 'A playbook folder holds playbook.yaml and its .ps1 scripts.');
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new RdpfixError('input', `${file}: not valid YAML: ${(err as Error).message}`, 'Fix the syntax at the line shown.');
  }
  const parsed = manifest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RdpfixError('input', `${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}.`, 'See docs/playbooks.md for the manifest format.');
  }
  const m = parsed.data;
  if (path.basename(dir) !== m.id) throw new RdpfixError('input', `${file}: id: '${m.id}' does not match the folder name '${path.basename(dir)}'.`, 'Name the folder after the playbook id.');
  const stepIds = new Set<string>();
  const scripts: Record<string, string> = {};
  const hash = createHash('sha256').update(text);
  m.steps.forEach((s, i) => {
    if (stepIds.has(s.id)) throw new RdpfixError('input', `${file}: steps.${i}.id: '${s.id}' is used twice.`, 'Give every step its own id.');
    stepIds.add(s.id);
    for (const phase of PHASES) {
      const name = s[phase];
      if (!name || scripts[name] !== undefined) continue;
      const p = path.join(dir, name);
      if (!existsSync(p)) throw new RdpfixError('input', `${file}: steps.${i}.${phase}: script '${name}' does not exist in ${dir}.`, 'Add the script or fix its name.');
      // As sent: with the shared prelude, so the digest covers it too.
      scripts[name] = withPrelude(readFileSync(p, 'utf8'));
    }
  });
  for (const name of Object.keys(scripts).sort()) hash.update(`\0${name}\0${scripts[name]}`);
  for (const [name, spec] of Object.entries(m.parameters)) checkDefault(file, name, spec);
  m.steps.forEach((s, i) => {
    const ttl = s.guard?.ttlMinutes;
    if (typeof ttl === 'string' && m.parameters[ttl]?.type !== 'integer') {
      throw new RdpfixError('input', `${file}: steps.${i}.guard.ttlMinutes: '${ttl}' is not an integer parameter of this playbook.`, 'Give a number of minutes or the name of an integer parameter.');
    }
  });
  return { ...m, dir, digest: hash.digest('hex'), scripts };
}

function checkDefault(file: string, name: string, spec: ParameterSpec): void {
  if (spec.default === undefined) return;
  const problem = parameterProblem(spec, spec.default);
  if (problem) throw new RdpfixError('input', `${file}: parameters.${name}.default: ${problem}.`, 'Make the default satisfy its own constraints.');
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
      if (spec.pattern && !new RegExp(spec.pattern).test(value)) return `must match ${spec.pattern}`;
      return null;
    case 'string[]':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return 'must be a list of strings';
      if (spec.pattern) {
        const re = new RegExp(spec.pattern);
        const bad = value.find((v) => !re.test(v as string));
        if (bad !== undefined) return `item '${bad}' must match ${spec.pattern}`;
      }
      return null;
  }
}

/** Loads every playbook folder under each directory. Later directories may not redefine an id. */
export function loadCatalogue(dirs: string[]): Map<string, Playbook> {
  const all = new Map<string, Playbook>();
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new RdpfixError('input', `Playbook folder ${dir} does not exist.`, 'Check --playbooks and `rdpfix config get playbookDirs`.');
    for (const entry of readdirSync(dir).sort()) {
      const sub = path.join(dir, entry);
      if (!statSync(sub).isDirectory() || !existsSync(path.join(sub, 'playbook.yaml'))) continue;
      const pb = loadPlaybook(sub);
      const clash = all.get(pb.id);
      if (clash) throw new RdpfixError('input', `Playbook id '${pb.id}' is defined twice: ${clash.dir} and ${pb.dir}.`, 'Rename one of them.');
      all.set(pb.id, pb);
    }
  }
  for (const pb of all.values()) {
    for (const other of [...pb.order.after, ...pb.order.before]) {
      if (!all.has(other)) throw new RdpfixError('input', `${path.join(pb.dir, 'playbook.yaml')}: order: unknown playbook '${other}'.`, 'Order hints name playbook ids of the catalogue.');
    }
  }
  return all;
}

/** The TTL of a guarded step, in minutes, with the run's resolved parameters. */
export function guardTtlMinutes(s: StepSpec, parameters: Record<string, unknown>): number | null {
  if (!s.guard) return null;
  const ttl = s.guard.ttlMinutes;
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
