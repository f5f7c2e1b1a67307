import { describe, it, expect } from 'vitest';
import { makeLabHost, runLab } from '../helpers/lab.js';

describe('lab harness', () => {
  it('runs a script on a lab host and returns its output', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, 'param($a) "got $a"; (Get-LabState).computerName', ['x']);
    expect(r.error).toBeNull();
    expect(r.output).toEqual(['got x', 'LAB-001']);
  });

  it('keeps Windows PowerShell 5.1 array shapes on: an array passed as one object serializes as {value, Count}', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, "@(1, @(2, 3), 4) | ConvertTo-Json -Compress; ConvertTo-Json -InputObject ([ordered]@{ x = (Write-Output -NoEnumerate @('a')) }) -Compress");
    expect(r.error).toBeNull();
    expect(r.output).toEqual(['[1,{"value":[2,3],"Count":2},4]', '{"x":{"value":["a"],"Count":1}}']);
  });
});
