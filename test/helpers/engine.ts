import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Broker } from '../../src/broker/broker.js';
import type { Inventory } from '../../src/inventory/inventory.js';
import { loadCatalogue } from '../../src/playbooks/manifest.js';
import { projectRoot } from '../../src/paths.js';
import type { LabHostFixture } from './lab.js';

export const fixturePlaybooks = () => path.join(projectRoot(), 'test', 'fixtures', 'playbooks');

/** An inventory of lab hosts, as `rdpfix lab init` would write it. */
export function labInventory(hosts: LabHostFixture[]): Inventory {
  return {
    path: path.join(hosts[0]!.dir, 'inventory.yaml'),
    hosts: hosts.map((h) => ({ name: h.state.name, rdpPort: 3389, tags: [], transport: { kind: 'lab' as const, state: h.statePath } })),
  };
}

export function engineSetup(extraPlaybookDirs: string[] = []) {
  return {
    stateDir: mkdtempSync(path.join(tmpdir(), 'rdpfix-state-')),
    catalogue: loadCatalogue([fixturePlaybooks(), ...extraPlaybookDirs]),
    broker: new Broker({ processes: 1, runspaces: 16 }),
  };
}
