import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configPath, loadConfig, setConfig, unsetConfig } from '../../src/config/config.js';

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
});
