import { describe, it, expect } from 'vitest';
import { makeLabHost, runLab } from '../helpers/lab.js';

describe('lab harness', () => {
  it('runs a script on a lab host and returns its output', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, 'param($a) "got $a"; (Get-LabState).computerName', ['x']);
    expect(r.error).toBeNull();
    expect(r.output).toEqual(['got x', 'LAB-001']);
  });
});
