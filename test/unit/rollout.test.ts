import { describe, expect, it } from 'vitest';
import { parsePercent, parseSerial, planWaves, waveStops } from '../../src/engine/rollout.js';

const hosts = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7'];

describe('rollout waves', () => {
  it('puts the canary first, then waves of a count or a share of the hosts', () => {
    expect(planWaves(hosts, undefined)).toEqual([hosts]);
    expect(planWaves(hosts, { serial: { count: 3 } })).toEqual([['h1', 'h2', 'h3'], ['h4', 'h5', 'h6'], ['h7']]);
    expect(planWaves(hosts, { canary: 1, serial: { count: 4 } })).toEqual([['h1'], ['h2', 'h3', 'h4', 'h5'], ['h6', 'h7']]);
    expect(planWaves(hosts, { serial: { percent: 30 } })).toEqual([['h1', 'h2'], ['h3', 'h4'], ['h5', 'h6'], ['h7']]);
    expect(planWaves(hosts, { serial: { percent: 1 } })).toHaveLength(7); // at least one host a wave
    expect(planWaves(hosts, { canary: 2 })).toEqual([['h1', 'h2'], ['h3', 'h4', 'h5', 'h6', 'h7']]);
    expect(planWaves([], { canary: 2 })).toEqual([]);
  });

  it('stops on failures past the threshold (strictly more, as Ansible), and parses the flags', () => {
    expect(waveStops(2, ['h3'], 4, 25)).toBeNull();
    expect(waveStops(2, ['h3', 'h4'], 4, 25)).toBe('wave 2: 2 of 4 host(s) failed (h3, h4), more than --max-fail 25%');
    expect(waveStops(1, ['h1'], 1, 0)).toMatch(/more than --max-fail 0%/);
    expect(waveStops(1, ['h1'], 1, undefined)).toBeNull();
    expect(parseSerial('10')).toEqual({ count: 10 });
    expect(parseSerial('25%')).toEqual({ percent: 25 });
    for (const bad of ['0', '0%', '101%', 'x', '-1']) expect(() => parseSerial(bad)).toThrow(/number of hosts/);
    expect(parsePercent('20%')).toBe(20);
    expect(parsePercent('0')).toBe(0);
    expect(() => parsePercent('120%')).toThrow(/percentage/);
  });
});
