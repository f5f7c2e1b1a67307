import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/paths.js';

/**
 * The lab is just another transport: what differs for a lab target lives in src/lab/ and behind the transport seam
 * (src/transport/: targets.ts, network.ts). Everywhere else, code asks the seam instead of testing the kind.
 */

/** Every .ts file under a folder. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Lines that compare something with 'lab' (===, !==, ==, != on either side, or a switch case). */
export function labComparisons(text: string): string[] {
  const compares = /(?:[!=]==?\s*(['"`])lab\1)|(?:(['"`])lab\2\s*[!=]==?)|(?:\bcase\s+(['"`])lab\3\s*:)/;
  return text.split(/\r?\n/).map((line, i) => ({ line, i })).filter(({ line }) => !/^\s*(\/\/|\*|\/\*)/.test(line) && compares.test(line)).map(({ line, i }) => `${i + 1}: ${line.trim()}`);
}

/**
 * Outside src/lab/ and src/transport/, only these may name the lab kind: where an inventory's `kind: lab` entry
 * becomes a target (its state path checked and resolved), and the `rdpfix lab` command, which works on lab hosts only.
 */
const ALLOWED = ['src/inventory/inventory.ts', 'src/cli/commands/lab.action.ts'];

describe('the lab behind the transport seam', () => {
  it('finds a comparison with the lab kind when there is one (the check can fail)', () => {
    expect(labComparisons("if (target.kind === 'lab') x();\nif (t.kind !== \"lab\") y();\nswitch (k) {\n  case 'lab':\n}\n'lab' == k;")).toHaveLength(4);
    expect(labComparisons("const label = 'lab';\n// kind === 'lab' in a comment\nimport { lab } from './lab.js';\nif (kind === 'labs') z();")).toEqual([]);
  });

  it('no file outside src/lab/ and src/transport/ compares a transport kind with lab', () => {
    const root = projectRoot();
    const seam = [path.join(root, 'src', 'lab') + path.sep, path.join(root, 'src', 'transport') + path.sep];
    const all = [...files(path.join(root, 'src')), ...files(path.join(root, 'machines'))].filter((f) => !seam.some((s) => f.startsWith(s)));
    expect(all.length).toBeGreaterThan(50);
    const hits = all
      .filter((f) => !ALLOWED.includes(path.relative(root, f).split(path.sep).join('/')))
      .flatMap((f) => labComparisons(readFileSync(f, 'utf8')).map((hit) => `${path.relative(root, f)}:${hit}`));
    expect(hits, `ask src/transport/network.ts (networkFor) or another seam function instead:\n${hits.join('\n')}`).toEqual([]);
  });
});
