import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Broker } from '../broker/broker.js';
import type { Inventory } from '../inventory/inventory.js';
import { targetFor } from '../inventory/inventory.js';
import { buildLabFleet } from '../lab/fleet.js';
import { LAB_LOCALES, type LabLocale } from '../lab/locales.js';
import { compareFacts, type Difference, type LabModel } from './compare.js';
import { readFacts, type FactsResult } from './facts.js';


/** The healthy lab host a real host is compared with, speaking `locale`. */
function referenceHost(locale: LabLocale) {
  return buildLabFleet({ hosts: 1, seed: 1, scenarios: ['healthy'], combine: 0, force: false, locales: [locale] })[0]!;
}

export function labModel(): LabModel {
  return { builds: [referenceHost('en-US').os.buildNumber], locales: [...LAB_LOCALES] };
}

export interface HostConformance {
  host: string;
  /** The lab reference the host was compared with: build and display language. */
  comparedWith: { build: string; locale: string } | null;
  error: { category: string; message: string } | null;
  differences: Difference[];
}

/**
 * Reads the facts on every host, then on a lab host made healthy for the same display language (the nearest the
 * lab models), and lists where they differ. Read-only on the hosts; the reference lab lives in a private temporary
 * folder removed at the end.
 */
export async function conformFleet(inventory: Inventory, broker: Broker, options: { timeoutMs: number }): Promise<{ model: LabModel; hosts: HostConformance[] }> {
  const model = labModel();
  const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-conform-'));
  const references = new Map<string, Promise<FactsResult>>();
  const referenceFor = (locale: string): Promise<FactsResult> => {
    let r = references.get(locale);
    if (!r) {
      const state = referenceHost(locale as LabLocale);
      const statePath = path.join(dir, `reference-${locale}.json`);
      writeFileSync(statePath, JSON.stringify(state), { flag: 'wx' });
      r = readFacts(broker, { kind: 'lab', host: `lab-reference-${locale}`, statePath }, options.timeoutMs);
      references.set(locale, r);
    }
    return r;
  };
  try {
    const hosts = await Promise.all(inventory.hosts.map(async (h): Promise<HostConformance> => {
      const real = await readFacts(broker, targetFor(h), options.timeoutMs);
      if (!real.ok) return { host: h.name, comparedWith: null, error: real.error, differences: [] };
      const wanted = real.facts.facts.os?.uiCulture ?? 'en-US';
      const locale = model.locales.includes(wanted) ? wanted : 'en-US';
      const lab = await referenceFor(locale);
      if (!lab.ok) return { host: h.name, comparedWith: null, error: { category: 'lab', message: `The lab reference host could not be read: ${lab.error.message}` }, differences: [] };
      return { host: h.name, comparedWith: { build: model.builds[0]!, locale }, error: null, differences: compareFacts(real.facts, lab.facts, model) };
    }));
    return { model, hosts };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
