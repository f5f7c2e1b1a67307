import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';

// `rdpfix --help` must not load the engine (issue 13): command definitions import only light modules, and each
// action is imported when its command runs. Checked on the built CLI (dist/, as the CLI tests run it).
const HEAVY = ['conf', 'xstate', 'node-powershell', 'yaml'];
const root = projectRoot();
const work = mkdtempSync(path.join(tmpdir(), 'rdpfix-help-light-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The node_modules packages loaded while running `code` (an ES module body), recorded by scripts/record-imports.mjs. */
function packagesLoadedBy(code: string, name: string): string[] {
  const log = path.join(work, `${name}.log`);
  execFileSync(process.execPath, ['--import', path.join(root, 'scripts', 'record-imports.mjs'), '--input-type=module', '-e', code], {
    env: { ...process.env, RDPFIX_IMPORT_LOG: log },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return [...new Set(urls.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []))];
}

const mainUrl = JSON.stringify(new URL(`file://${path.join(root, 'dist', 'src', 'cli', 'main.js')}`).href);

describe('help loads no engine', () => {
  it('the recorder sees a heavy package when one is loaded (the check can fail)', () => {
    const url = JSON.stringify(new URL(`file://${path.join(root, 'dist', 'src', 'cli', 'commands', 'config.action.js')}`).href);
    expect(packagesLoadedBy(`await import(${url});`, 'control')).toContain('conf');
  });

  it('building the program and rendering every command\'s help loads none of conf, xstate, node-powershell, yaml', () => {
    const code = `const { buildProgram } = await import(${mainUrl});
      const walk = (c) => { c.helpInformation(); c.commands.forEach(walk); };
      walk(buildProgram());`;
    const loaded = packagesLoadedBy(code, 'help');
    expect(loaded).toContain('commander');
    expect(loaded.filter((p) => HEAVY.includes(p))).toEqual([]);
  });

  it('the commands that run on hosts read the settings without conf: their actions load neither conf nor its validator', () => {
    const actions = ['run', 'past-run', 'diagnose', 'probe', 'conform'].map((a) => JSON.stringify(new URL(`file://${path.join(root, 'dist', 'src', 'cli', 'commands', `${a}.action.js`)}`).href));
    const settings = JSON.stringify(new URL(`file://${path.join(root, 'dist', 'src', 'config', 'settings.js')}`).href);
    const code = `${actions.map((u) => `await import(${u});`).join(' ')}
      const { resolveSettings } = await import(${settings});
      (await import('node:fs')).writeFileSync(${JSON.stringify(path.join(work, 'config.json'))}, '{"processes": 3}');
      const s = resolveSettings({}, { RDPFIX_CONFIG_DIR: ${JSON.stringify(work)} });
      if (s.processes.value !== 3 || s.processes.origin !== 'config') throw new Error('the config file was not read');`;
    const loaded = packagesLoadedBy(code, 'run-actions');
    expect(loaded).toEqual(expect.arrayContaining(['xstate', 'node-powershell', 'zod']));
    expect(loaded.filter((p) => ['conf', 'ajv', 'ajv-formats'].includes(p))).toEqual([]);
  });
});
