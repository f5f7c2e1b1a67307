import { schemaId } from '../../json-schema.js';
import { loadInventory, type Inventory, type InventoryHost } from '../../inventory/inventory.js';
import { escapeControl } from '../../safe-text.js';
import { renderTable } from '../table.js';

/** Schema of `inventory show --json`. */
export const INVENTORY_SHOW_SCHEMA = schemaId('inventory-show');

const FORMAT_LABEL: Record<Inventory['format'], string> = { rdpfix: 'rdpfix YAML/JSON', list: 'a plain host list', csv: 'CSV', 'ansible-ini': 'an Ansible INI inventory', 'ansible-yaml': 'an Ansible YAML inventory' };

/** `rdpfix inventory show`: loaded only when the command runs (see inventory.command.ts). */
export function inventoryShowAction(o: { inventory: string; json: boolean }): void {
  const inventory = loadInventory(o.inventory);
  if (o.json) {
    console.log(JSON.stringify({ schema: INVENTORY_SHOW_SCHEMA, path: inventory.path, format: inventory.format, hosts: inventory.hosts, groups: groupsOf(inventory.hosts), notes: inventory.notes }, null, 2));
    return;
  }
  const groups = groupsOf(inventory.hosts);
  console.log(`${escapeControl(inventory.path)}: ${FORMAT_LABEL[inventory.format]}, ${inventory.hosts.length} host(s)${Object.keys(groups).length ? `, ${Object.keys(groups).length} group(s)` : ''}.`);
  console.log(renderTable(['HOST', 'ADDRESS', 'TRANSPORT', 'GROUPS', 'TAGS'], inventory.hosts.map((h) => [h.name, h.address ?? '', describeTransport(h), h.groups.join(','), h.tags.join(',')])));
  for (const n of inventory.notes) console.log(`note: ${escapeControl(n)}`);
}

/** One line per transport: how rdpfix will reach the host (never a secret: only the variable's name). */
export function describeTransport(h: InventoryHost): string {
  const t = h.transport;
  switch (t.kind) {
    case 'ssh':
      return ['ssh', t.user ? `${t.user}@` : '', `port ${t.port ?? 22}`, t.keyFile ? `key ${t.keyFile}` : ''].filter(Boolean).join(' ').replace('@ ', '@');
    case 'winrm': {
      const ssl = t.useSsl ?? false;
      const parts = [`winrm ${ssl ? 'https' : 'http'}:${t.port ?? (ssl ? 5986 : 5985)}`, t.authentication ?? '', t.user ? `user ${t.user}` : 'current user', t.passwordEnv ? `password from $${t.passwordEnv}` : ''];
      if (t.skipCACheck || t.skipCNCheck) parts.push('certificate not checked');
      return parts.filter(Boolean).join(', ');
    }
    default:
      return t.kind; // a simulated host
  }
}

function groupsOf(hosts: InventoryHost[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const h of hosts) for (const g of h.groups) (out[g] ??= []).push(h.name);
  return out;
}

/** Commands that read an inventory say, on stderr, when an import left something unused (inventory show lists it). */
export function warnInventoryNotes(inventory: Inventory): void {
  if (!inventory.notes.length) return;
  console.error(`rdpfix: ${escapeControl(inventory.path)}: ${inventory.notes.length} note(s) on what was not used or was assumed; \`rdpfix inventory show -i ${escapeControl(inventory.path)}\` lists them.`);
}
