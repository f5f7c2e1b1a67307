import { describe, expect, it } from 'vitest';
import { changeText, fieldDiff } from '../../src/cli/field-diff.js';

describe('per-field diff of before → after', () => {
  it('names only the fields that change, by path', () => {
    const before = { interfaces: [{ interfaceIndex: 7, interfaceAlias: 'Ethernet', category: 'Public' }] };
    const after = { interfaces: [{ interfaceIndex: 7, interfaceAlias: 'Ethernet', category: 'Private' }] };
    expect(fieldDiff(before, after).map((c) => changeText(c))).toEqual(['interfaces[0].category: Public → Private']);
    expect(fieldDiff({ MaxInstanceCount: 2, policy: null }, { MaxInstanceCount: 4294967295, policy: null }).map((c) => changeText(c))).toEqual(['MaxInstanceCount: 2 → 4294967295']);
    expect(fieldDiff({ a: 1 }, { a: 1, b: true }).map((c) => changeText(c))).toEqual(['b: (none) → true']);
    expect(fieldDiff(1, 0).map((c) => changeText(c))).toEqual(['value: 1 → 0']);
    expect(fieldDiff({ a: [1, 2] }, { a: [1, 2] })).toEqual([]);
    expect(changeText({ path: 'x', before: 'a'.repeat(100), after: 'b' }, 10)).toBe(`x: ${'a'.repeat(9)}… → b`);
  });
});
