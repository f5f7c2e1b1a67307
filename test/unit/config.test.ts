import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configPath, loadConfig } from '../../src/config/config.js';
import { setConfig, unsetConfig } from '../../src/config/config-store.js';
import { RdpfixError } from '../../src/errors.js';

const env = () => ({ RDPFIX_CONFIG_DIR: mkdtempSync(path.join(tmpdir(), 'rdpfix-config-')) });

describe('config', () => {
  it('sets, reads and unsets known keys, parsing numbers and lists', () => {
    const e = env();
    expect(loadConfig(e)).toEqual({});
    setConfig('processes', '4', e);
    setConfig('playbookDirs', '/srv/a, /srv/b', e);
    expect(loadConfig(e)).toEqual({ processes: 4, playbookDirs: ['/srv/a', '/srv/b'] });
    unsetConfig('processes', e);
    expect(loadConfig(e)).toEqual({ playbookDirs: ['/srv/a', '/srv/b'] });
  });

  it('refuses unknown keys (no place for secrets) and bad values, writing nothing', () => {
    const e = env();
    expect(() => setConfig('password', 'hunter2', e)).toThrow(/Unknown config key 'password'/);
    expect(() => setConfig('concurrency', 'lots', e)).toThrow(/Config concurrency: Expected number/);
    expect(loadConfig(e)).toEqual({});
  });

  it('reports a hand-edited config with a bad value, naming the file', () => {
    const e = env();
    writeFileSync(configPath(e), JSON.stringify({ processes: 0 }));
    expect(() => loadConfig(e)).toThrow(/config\.json: processes: Number must be greater than or equal to 1/);
  });

  // Issue 10 item 6: a corrupt file was a SyntaxError with a stack trace (exit 70) for every command.
  it.each([
    ['truncated JSON', '{"processes": 4', /is not valid JSON/],
    ['binary junk', '\u0000\u001b[2J\u0007garbage', /is not valid JSON/],
    ['deep nesting', '['.repeat(200_000), /not valid JSON|nested too deeply/],
  ])('reports a config file holding %s as a config error naming the file and the fix, rewriting nothing', (_name, text, pattern) => {
    const e = env();
    writeFileSync(configPath(e), text);
    for (const call of [() => loadConfig(e), () => setConfig('processes', '2', e), () => unsetConfig('processes', e)]) {
      let error: unknown;
      try {
        call();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(RdpfixError);
      expect((error as RdpfixError).kind).toBe('config');
      expect((error as RdpfixError).message).toContain(configPath(e));
      expect((error as RdpfixError).message).toMatch(pattern);
      expect((error as RdpfixError).message).not.toMatch(/[\u0000-\u0008\u001b]/);
      expect((error as RdpfixError).fix).toMatch(/delete it/);
    }
    expect(readFileSync(configPath(e), 'utf8')).toBe(text);
  });

  it('reports a config path that is a folder, and still says where the file is', () => {
    const e = env();
    mkdirSync(configPath(e));
    expect(configPath(e)).toBe(path.join(e.RDPFIX_CONFIG_DIR, 'config.json'));
    expect(() => loadConfig(e)).toThrow(/config\.json is unusable: it cannot be read \(EISDIR\)/);
  });

  it('lets `unset` repair a value that breaks the schema', () => {
    const e = env();
    writeFileSync(configPath(e), JSON.stringify({ processes: 0, concurrency: 3 }));
    unsetConfig('processes', e);
    expect(loadConfig(e)).toEqual({ concurrency: 3 });
  });
});
