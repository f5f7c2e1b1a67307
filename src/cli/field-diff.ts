/**
 * Before → after as the fields that change: `category: Public → Private`, `MaxInstanceCount: 2 → 4294967295`.
 * Objects are walked by key, arrays by index (`interfaces[0].category`); a value that is not an object on both sides
 * is one change. Unchanged fields are left out; so the diff of equal values is empty.
 */
export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

export function fieldDiff(before: unknown, after: unknown, path = ''): FieldChange[] {
  if (isContainer(before) && isContainer(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = Array.isArray(before)
      ? [...Array(Math.max(before.length, (after as unknown[]).length)).keys()].map(String)
      : [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => fieldDiff((before as Record<string, unknown>)[k], (after as Record<string, unknown>)[k], Array.isArray(before) ? `${path}[${k}]` : path ? `${path}.${k}` : k));
  }
  return same(before, after) ? [] : [{ path: path || 'value', before, after }];
}

/** One change as text, each side cut to `max` characters. */
export function changeText(c: FieldChange, max = 40): string {
  return `${c.path}: ${cut(show(c.before), max)} → ${cut(show(c.after), max)}`;
}

export const show = (v: unknown): string => (v === undefined ? '(none)' : v === null ? 'null' : typeof v === 'string' ? v : JSON.stringify(v));
const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] => typeof v === 'object' && v !== null;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
