import { describe, expect, it } from 'vitest';
import { writeJsonWithArray } from '../../src/json-stream.js';

describe('writeJsonWithArray', () => {
  const cases: [Record<string, unknown>, unknown[]][] = [
    [{ schema: 'x', a: 1, b: undefined, hosts: 'replaced', c: { d: [1, { e: 'f\ng' }], h: [] }, f: () => 1, z: null }, [{ host: 'a', r: { p: [1, 2], q: {} } }, { host: 'b', s: 'x"y\u0000' }, null]],
    [{ schema: 'x', hosts: [] }, []],
    [{ a: 1, b: [] }, [[], {}, [[]], 'text']],
  ];
  it('writes exactly JSON.stringify of the document with the items in place, at any indent and chunk size', () => {
    for (const [doc, items] of cases) {
      for (const indent of [0, 2, 4]) {
        for (const chunk of [1, 7, 1 << 20]) {
          const pieces: string[] = [];
          writeJsonWithArray((t) => pieces.push(t), doc, 'hosts', items, { indent, chunk });
          expect(pieces.join('')).toBe(JSON.stringify({ ...doc, hosts: items }, null, indent));
          if (chunk === 1) expect(pieces.length).toBeGreaterThan(items.length);
        }
      }
    }
  });

  it('takes the items lazily, one at a time', () => {
    let live = 0;
    let most = 0;
    function* items() {
      for (let i = 0; i < 50; i++) {
        live++;
        most = Math.max(most, live);
        yield { i, text: 'x'.repeat(100) };
        live--;
      }
    }
    let text = '';
    writeJsonWithArray((t) => (text += t), { schema: 's' }, 'hosts', items(), { chunk: 256 });
    expect(most).toBe(1);
    expect(JSON.parse(text).hosts).toHaveLength(50);
  });
});
