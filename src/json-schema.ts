/**
 * Every JSON document rdpfix prints (a command's `--json`, a report, an NDJSON event) names what it is and its
 * version in one field, `schema`: `rdpfix.<kind>/<version>`. A consumer checks that field before reading the rest;
 * a version changes only when a field is removed or changes meaning (adding a field keeps it). docs/json.md lists
 * every kind.
 */
export const SCHEMA_FIELD = 'schema';
export const JSON_SCHEMA_VERSION = 1;

export type SchemaId<K extends string> = `rdpfix.${K}/${typeof JSON_SCHEMA_VERSION}`;

export function schemaId<K extends string>(kind: K): SchemaId<K> {
  return `rdpfix.${kind}/${JSON_SCHEMA_VERSION}`;
}

/** A document with its `schema` first, so `head -c` of a file shows what it is. */
export function versioned<K extends string, T extends object>(kind: K, doc: T): { schema: SchemaId<K> } & T {
  return { schema: schemaId(kind), ...doc };
}
