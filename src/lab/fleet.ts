import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { healthyHost } from './base-host.js';
import { createRng } from './rng.js';
import { applyScenario, isScenario, SCENARIOS, type Scenario } from './scenarios.js';
import type { LabHostState } from './state.js';
import { LAB_LOCALES, type LabLocale } from './locales.js';
import { RdpfixError } from '../errors.js';
import { duplicatesOf, quoteValues } from '../safe-text.js';

export interface LabInitOptions {
  hosts: number;
  seed: number;
  scenarios: Scenario[];
  /** Extra faults per host drawn (seeded) from the other scenarios: 0 = one scenario per host. */
  combine: number;
  force: boolean;
  /** Display languages: host i speaks locales[i mod k] (default en-US). */
  locales?: LabLocale[];
  now?: Date;
}

import { MAX_LAB_HOSTS } from './limits.js';

export { MAX_LAB_HOSTS };

/** Validates lab init options before anything is written. */
export function checkLabInitOptions(o: { hosts: number; seed: number; scenarios: string[]; combine: number; locales?: string[] }): asserts o is LabInitOptions {
  if (!Number.isInteger(o.hosts) || o.hosts < 1 || o.hosts > MAX_LAB_HOSTS) {
    throw new RdpfixError('usage', `--hosts must be a whole number from 1 to ${MAX_LAB_HOSTS}, got '${o.hosts}'.`, 'Example: rdpfix lab init ./lab --hosts 12');
  }
  if (!Number.isInteger(o.seed) || o.seed < 0) throw new RdpfixError('usage', `--seed must be a whole number ≥ 0, got '${o.seed}'.`);
  const bad = o.scenarios.filter((s) => !isScenario(s));
  if (bad.length) throw new RdpfixError('usage', `Unknown scenario${bad.length > 1 ? 's' : ''}: ${bad.join(', ')}.`, `Known scenarios: ${SCENARIOS.join(', ')}.`);
  if (o.scenarios.length === 0) throw new RdpfixError('usage', '--scenarios is empty.', `Name at least one of: ${SCENARIOS.join(', ')}.`);
  if (!Number.isInteger(o.combine) || o.combine < 0 || o.combine > 3) throw new RdpfixError('usage', `--combine must be 0 to 3, got '${o.combine}'.`);
  if (o.locales) checkLabLocales(o.locales);
}

/** --locales: known culture names (exact case, as locales.json and Windows print them), each once. */
function checkLabLocales(locales: string[]): void {
  const example = 'Example: rdpfix lab init ./lab --locales en-US,ja-JP';
  if (locales.length === 0) throw new RdpfixError('usage', '--locales is empty: it names no display language.', `Name at least one of ${LAB_LOCALES.join(', ')}, comma-separated. ${example}`);
  const unknown = locales.filter((l) => !(LAB_LOCALES as readonly string[]).includes(l));
  if (unknown.length) {
    throw new RdpfixError('usage', `--locales: the lab has no model of ${quoteValues(unknown)}.`, `Use display languages the lab speaks: ${LAB_LOCALES.join(', ')}. ${example}`);
  }
  const twice = duplicatesOf(locales);
  if (twice.length) {
    throw new RdpfixError('usage', `--locales names ${quoteValues(twice)} more than once.`, `Name each display language once: host i speaks locale i mod k, so a repeat only skews the mix. ${example}`);
  }
}

/** Scenarios that cannot share a host: they set the same thing differently, or one erases the other's evidence
 *  (with Remote Desktop Services down there are no live RDP sessions to fill a session cap; the policy copy of
 *  SecurityLayer would hide the local one and make the local mismatch unfixable). */
const EXCLUSIVE: Scenario[][] = [
  ['termservice-stopped', 'termservice-hung'], ['stuck-session', 'session-cap'],
  ['termservice-stopped', 'session-cap'], ['termservice-hung', 'session-cap'],
  ['nla-mismatch', 'nla-policy'],
];
const clashes = (a: Scenario, b: Scenario) => EXCLUSIVE.some((g) => g.includes(a) && g.includes(b));

/** Builds the fleet in memory: host i gets scenario i mod k, plus `combine` seeded extra faults. */
export function buildLabFleet(o: LabInitOptions): LabHostState[] {
  const now = o.now ?? new Date();
  const rng = createRng(o.seed);
  return Array.from({ length: o.hosts }, (_, i) => {
    const state = healthyHost(i, rng, now);
    if (o.locales?.length) state.locale = o.locales[i % o.locales.length]!;
    const primary = o.scenarios[i % o.scenarios.length]!;
    applyScenario(state, primary, rng, now);
    let others = SCENARIOS.filter((s) => s !== 'healthy' && s !== primary && primary !== 'healthy' && !clashes(s, primary));
    for (let k = 0; k < o.combine && others.length; k++) {
      const extra = others.splice(rng.int(0, others.length - 1), 1)[0]!;
      others = others.filter((s) => !clashes(s, extra));
      applyScenario(state, extra, rng, now);
    }
    return state;
  });
}

export function inventoryPath(dir: string): string {
  return path.join(dir, 'inventory.yaml');
}

/** Writes hosts/<name>.json for every host and inventory.yaml. Refuses to overwrite a lab unless forced. */
export function writeLabFleet(dir: string, o: LabInitOptions): { inventory: string; hosts: LabHostState[] } {
  const inventory = inventoryPath(dir);
  if (existsSync(inventory) && !o.force) {
    throw new RdpfixError('usage', `${dir} already holds a lab (${inventory}).`, 'Pick another folder, or pass --force to replace it.');
  }
  const hosts = buildLabFleet(o);
  mkdirSync(path.join(dir, 'hosts'), { recursive: true });
  for (const h of hosts) writeFileSync(path.join(dir, 'hosts', `${h.name}.json`), JSON.stringify(h, null, 2) + '\n');
  const doc = {
    version: 1,
    hosts: hosts.map((h) => ({ name: h.name, address: h.network.address, transport: { kind: 'lab', state: `hosts/${h.name}.json` } })),
  };
  writeFileSync(inventory, `# rdpfix lab fleet: ${hosts.length} simulated Windows hosts (seed ${o.seed})\n` + toYaml(doc));
  return { inventory, hosts };
}

export function readLabHost(statePath: string): LabHostState {
  try {
    return JSON.parse(readFileSync(statePath, 'utf8')) as LabHostState;
  } catch (err) {
    throw new RdpfixError('input', `Cannot read lab host state ${statePath}: ${(err as Error).message}`, 'Recreate the lab with `rdpfix lab init DIR --force`.');
  }
}
