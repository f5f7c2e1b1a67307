import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { loadCatalogue, orderPlaybooks } from '../../src/playbooks/manifest.js';
import { prepareRun } from '../../src/engine/run.js';
import { projectRoot } from '../../src/paths.js';
import type { Inventory } from '../../src/inventory/inventory.js';

// Issue 11 item 8: playbooks that interact on a host.
const catalogue = loadCatalogue([path.join(projectRoot(), 'playbooks')]);
const inventory: Inventory = {
  path: '/nonexistent/inventory.yaml',
  hosts: [{ name: 'lab-001', rdpPort: 3389, tags: [], transport: { kind: 'lab', state: '/nonexistent/lab-001.json' } }],
};
const prepare = (parameters: Record<string, Record<string, unknown>>, hostParameters?: Record<string, Record<string, Record<string, unknown>>>) =>
  prepareRun({ inventory, catalogue, playbookIds: ['rdp-security-layer', 'nla-temporary-disable'], parameters, ...(hostParameters ? { hostParameters } : {}) });

describe('rdp-security-layer and the playbooks it depends on', () => {
  it('runs after machinekeys-repair (TLS over a broken certificate is 0x904 itself) and after nla-temporary-disable', () => {
    const ids = orderPlaybooks(['rdp-security-layer', 'nla-temporary-disable', 'machinekeys-repair'].map((id) => catalogue.get(id)!)).map((p) => p.id);
    expect(ids.indexOf('rdp-security-layer')).toBeGreaterThan(ids.indexOf('machinekeys-repair'));
    expect(ids.indexOf('rdp-security-layer')).toBeGreaterThan(ids.indexOf('nla-temporary-disable'));
  });

  it('refuses at plan time a security-layer TTL that outlasts NLA\'s, naming the host and both values', () => {
    expect(() => prepare({ 'rdp-security-layer': { ttlMinutes: 120 }, 'nla-temporary-disable': { ttlMinutes: 60 } }))
      .toThrow(/Host lab-001: rdp-security-layer\.ttlMinutes \(120\) outlasts nla-temporary-disable\.ttlMinutes \(60\)/);
  });

  it('checks a host\'s own parameters (from a diagnosis) as well', () => {
    expect(() => prepare({ 'nla-temporary-disable': { ttlMinutes: 30 } }, { 'lab-001': { 'rdp-security-layer': { ttlMinutes: 45 } } })).toThrow(/outlasts/);
  });

  it('accepts equal or shorter TTLs (the defaults are equal), and either playbook alone', () => {
    expect(() => prepare({})).not.toThrow();
    expect(() => prepare({ 'rdp-security-layer': { ttlMinutes: 20 }, 'nla-temporary-disable': { ttlMinutes: 30 } })).not.toThrow();
    expect(() => prepareRun({ inventory, catalogue, playbookIds: ['rdp-security-layer'], parameters: { 'rdp-security-layer': { ttlMinutes: 600 } } })).not.toThrow();
  });
});
