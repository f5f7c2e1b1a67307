/** What an inventory in another format contributes: hosts with variables and groups, before mapping to rdpfix. */
export interface ImportedHost {
  /** The name as the source file gives it (Ansible: the inventory hostname). */
  name: string;
  /** Variables as the file gives them, merged by the source format's precedence (host over group). */
  vars: Record<string, unknown>;
  groups: string[];
  /** Where the host is defined, for error messages: `line 12` or `all.children.web.hosts`. */
  where: string;
}

export type InventoryFormat = 'rdpfix' | 'list' | 'csv' | 'ansible-ini' | 'ansible-yaml';

/** Bad input in an imported inventory: the message names where; the caller adds the file and the fix. */
export class ImportProblem extends Error {}

/** A variable map with no prototype: a variable named `__proto__` in a file is just a name. */
export const bag = (): Record<string, unknown> => Object.create(null) as Record<string, unknown>;

/** Variables from `group_vars/` and `host_vars/` beside the inventory: they override the file's own, as in Ansible. */
export interface VarLayer {
  group(name: string): Record<string, unknown> | undefined;
  host(name: string): Record<string, unknown> | undefined;
}
