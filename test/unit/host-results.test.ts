import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HostResults } from '../../src/engine/host-results.js';
import { writeRunSummary } from '../../src/cli/render.js';
import { versioned } from '../../src/json-schema.js';
import type { HostOutput } from '../../machines/host.machine.js';
import type { RunResult } from '../../src/engine/run.js';

const output = (host: string, outcome: HostOutput['outcome'] = 'planned'): HostOutput => ({
  host, outcome, failed: null, outcomes: { p: 'planned' },
  results: { p: { plan: [{ step: 's', action: 'apply', before: { v: 1, text: 'é "q"' }, after: { v: 0 } }] } as never },
});

describe('host results kept in a file as hosts finish', () => {
  it('reads back what was added, in the order of the run\'s hosts, one at a time, leaving no file behind', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-results-'));
    const results = new HostResults(dir, ['a', 'b', 'c', 'd']);
    results.add(output('c'));
    results.add(output('a', 'failed' as never));
    results.add(output('b'));
    results.add(output('a'));
    expect(results.count).toBe(3);
    // A host added twice reads as its last output; a host never added (d) is left out.
    expect([...results]).toEqual([output('a'), output('b'), output('c')]);
    const it = results[Symbol.iterator]();
    expect(it.next().value).toEqual(output('a'));
    if (process.platform !== 'win32') expect(readdirSync(dir)).toEqual([]);
    results.close();
    expect(() => [...results]).toThrow();
  });

  it('the run summary, written host by host, is the line one JSON.stringify of the whole summary gave', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rdpfix-results-'));
    const outputs = new HostResults(dir, ['a', 'b']);
    outputs.add(output('b'));
    outputs.add(output('a'));
    const result = {
      runId: 'r', mode: 'plan', state: { status: 'finished', hosts: { a: { state: 'planned' }, b: { state: 'planned' } } },
      refused: [], notes: ['n'], get hosts() { return [...outputs]; }, eachHost: () => outputs,
    } as unknown as RunResult;
    const recap = [{ host: 'a', state: 'planned' }];
    let text = '';
    writeRunSummary(result, { recap, diagnosis: [] }, (t) => (text += t));
    const whole = versioned('run-summary', { runId: 'r', mode: 'plan', status: 'finished', hosts: result.hosts.map((h) => ({ ...h, state: 'planned' })), refused: [], notes: ['n'], recap, diagnosis: [] });
    expect(text).toBe(`${JSON.stringify(whole)}\n`);
  });
});
