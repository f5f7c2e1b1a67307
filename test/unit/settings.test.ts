import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultProcesses, resolveSettings } from '../../src/config/settings.js';
import { defaultLabRunspaces } from '../../src/broker/broker.js';
import { configPath } from '../../src/config/config.js';
import { setConfig } from '../../src/config/config-store.js';

const env = (extra: NodeJS.ProcessEnv = {}) => ({ RDPFIX_CONFIG_DIR: mkdtempSync(path.join(tmpdir(), 'rdpfix-settings-')), XDG_STATE_HOME: '/xdg', ...extra });

describe('option resolver: flags > environment > config > defaults', () => {
  it('defaults, with their origin', () => {
    const s = resolveSettings({}, env());
    expect(s.stateDir).toEqual({ value: process.platform === 'win32' ? expect.any(String) : '/xdg/rdpfix', origin: 'default', from: 'default' });
    expect(s.processes).toEqual({ value: defaultProcesses(), origin: 'default', from: 'default' });
    expect(s.concurrency).toMatchObject({ value: 32, origin: 'default' });
    expect(s.pwsh).toMatchObject({ value: undefined, origin: 'default' });
  });

  it('the default number of PowerShell processes follows the cores: one for the controller, at least 1, at most 4', () => {
    expect([1, 2, 3, 4, 5, 8, 64].map((cores) => defaultProcesses(cores))).toEqual([1, 1, 2, 3, 4, 4, 4]);
  });

  it('lab runspaces per process: the cores shared out among the processes, at least 2', () => {
    // [cores, processes] as the default process count gives them, and two explicit ones.
    expect([[1, 1], [2, 1], [4, 3], [8, 4], [64, 4], [2, 4], [16, 1]].map(([cores, processes]) => defaultLabRunspaces(processes, cores))).toEqual([2, 2, 2, 2, 16, 2, 16]);
  });

  it('the config file wins over defaults for every command (main: runs list/show ignored config stateDir, probe/diagnose ignored pwsh and processes)', () => {
    const e = env();
    setConfig('stateDir', '/from/config', e);
    setConfig('processes', '3', e);
    setConfig('pwsh', '/opt/pwsh', e);
    const s = resolveSettings({}, e);
    expect(s.stateDir).toEqual({ value: '/from/config', origin: 'config', from: configPath(e) });
    expect(s.processes).toMatchObject({ value: 3, origin: 'config' });
    expect(s.pwsh).toMatchObject({ value: '/opt/pwsh', origin: 'config' });
  });

  it('the environment wins over the config, flags over both', () => {
    const e = env({ RDPFIX_STATE_DIR: '/from/env', RDPFIX_PROCESSES: '4' });
    setConfig('stateDir', '/from/config', e);
    setConfig('processes', '3', e);
    expect(resolveSettings({}, e).stateDir).toMatchObject({ value: '/from/env', origin: 'env', from: 'RDPFIX_STATE_DIR' });
    expect(resolveSettings({}, e).processes).toMatchObject({ value: 4, origin: 'env' });
    const s = resolveSettings({ stateDir: '/from/flag', processes: 5 }, e);
    expect(s.stateDir).toMatchObject({ value: '/from/flag', origin: 'flag', from: '--state-dir' });
    expect(s.processes).toMatchObject({ value: 5, origin: 'flag' });
  });

  it('a bad environment value is an environment problem (exit 3), named with its fix', () => {
    expect(() => resolveSettings({}, env({ RDPFIX_PROCESSES: 'many' }))).toThrow(expect.objectContaining({ kind: 'config', message: expect.stringMatching(/RDPFIX_PROCESSES="many" is not a whole number from 1 to 16/) }));
  });

  it('playbook folders add up: config, environment, flags', () => {
    const e = env({ RDPFIX_PLAYBOOKS: ['/env/a', '/env/b'].join(path.delimiter) });
    setConfig('playbookDirs', '/cfg', e);
    expect(resolveSettings({ playbooks: ['/flag'] }, e).playbookDirs.value).toEqual(['/cfg', '/env/a', '/env/b', '/flag']);
  });
});
