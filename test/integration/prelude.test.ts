import { describe, it, expect } from 'vitest';
import { makeLabHost, runLab } from '../helpers/lab.js';
import { withPrelude } from '../../src/playbooks/prelude.js';

/** A step script made the way the loader makes them: its param line, the prelude, then the body. */
const step = (body: string) => withPrelude(`param([Parameter(Mandatory)][string]$InputJson)\n${body}`);
const input = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ runId: 'r-1', host: 'lab-001', playbook: 'p', step: 's', phase: 'check', parameters: { a: 1 }, checkpoint: null, ...extra });
const USER = 'S-1-5-21-1111111111-2222222222-3333333333-1001';
const PROTECTED = 'O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)';

describe('prelude: step input', () => {
  const read = step(`$in = Read-RdpfixInput -Json $InputJson -Steps 's' -Parameters 'a', 'b'\nWrite-RdpfixResult ([ordered]@{ phase = $in.phase; a = $in.parameters.a })`);

  it('accepts the controller\'s input, with or without parameters', async () => {
    const host = makeLabHost();
    expect((await runLab(host.statePath, read, [input()])).output).toEqual(['{"phase":"check","a":1}']);
    const r = await runLab(host.statePath, step(`$in = Read-RdpfixInput -Json $InputJson -Parameters 'a'\nWrite-RdpfixResult @{ n = @($in.parameters.PSObject.Properties).Count }`), [input({ parameters: {} })]);
    expect(r.output).toEqual(['{"n":0}']);
  });

  // Every refusal in one pwsh run (a start costs seconds): the step runs once per input, each in its own try.
  const REFUSED: [string, string, RegExp][] = [
    ['an unknown key', input({ extra: 1 }), /unknown key 'extra' \(known: runId, host, playbook, step, phase, parameters, checkpoint\)/],
    ['an unknown parameter', input({ parameters: { a: 1, c: 2 } }), /unknown parameter 'c' \(this script takes: a, b\)/],
    ['an unknown step', input({ step: 'other' }), /this script has no step 'other' \(its steps: s\)/],
    ['an unknown phase', input({ phase: 'deploy' }), /unknown phase 'deploy'/],
    ['no phase', JSON.stringify({ step: 's' }), /'phase' is missing/],
    ['not an object', '[1,2]', /not a JSON object/],
    ['not JSON', '{nope', /not JSON/],
  ];
  let refusals: Promise<{ out: string[]; err: string | null }[]> | undefined;
  const refusalsOf = () => (refusals ??= (async () => {
    const r = await runLab(makeLabHost().statePath, `param([string]$Step, [string[]]$Inputs)
$all = foreach ($j in $Inputs) {
  try { $out = @(& ([scriptblock]::Create($Step)) $j); [pscustomobject]@{ out = $out; err = $null } }
  catch { [pscustomobject]@{ out = @(); err = $_.ToString() } }
}
ConvertTo-Json -InputObject @($all) -Depth 4 -Compress`, [read, REFUSED.map(([, json]) => json)]);
    expect(r.error).toBeNull();
    return JSON.parse(r.output[0] as string) as { out: string[]; err: string | null }[];
  })());

  it.each(REFUSED.map((x, i) => [...x, i] as const))('refuses %s with a clear error', async (_what, _json, message, i) => {
    const r = (await refusalsOf())[i]!;
    expect(r.out).toEqual([]);
    expect(r.err).toMatch(message);
  });
});

describe('prelude: rdpfix\'s protected folder under %ProgramData%', () => {
  const init = step(`$f = Initialize-RdpfixFolder -Relative 'backup\\run-1'\nWrite-RdpfixResult ([ordered]@{ path = $f.path; created = $f.created })`);
  const refusal = step(`Write-RdpfixResult @{ refusal = (Get-RdpfixFolderRefusal -Relative 'backup\\run-1') }`);

  it('creates each level owned by Administrators, not inherited, for SYSTEM and Administrators only', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, init, [input()]);
    expect(r.error).toBeNull();
    // The lab has no %ProgramData% (one process serves many hosts): ProfileList's ProgramData is the fallback.
    expect(JSON.parse(r.output[0] as string)).toEqual({ path: 'C:\\ProgramData\\rdpfix\\backup\\run-1', created: ['C:\\ProgramData\\rdpfix', 'C:\\ProgramData\\rdpfix\\backup', 'C:\\ProgramData\\rdpfix\\backup\\run-1'] });
    const files = host.read().files;
    for (const p of ['C:\\ProgramData\\rdpfix', 'C:\\ProgramData\\rdpfix\\backup', 'C:\\ProgramData\\rdpfix\\backup\\run-1']) expect(files[p]!.sddl).toBe(PROTECTED);
    // Ours now: used again as it is.
    const again = await runLab(host.statePath, init, [input()]);
    expect(JSON.parse(again.output[0] as string)).toMatchObject({ created: [] });
    expect(JSON.parse((await runLab(host.statePath, refusal, [input()])).output[0] as string)).toEqual({ refusal: null });
  });

  it.each([
    ['owned by an ordinary user', `O:${USER}G:${USER}D:PAI(A;OICI;FA;;;${USER})(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)`, /C:\\ProgramData\\rdpfix exists and is not rdpfix's own: its owner is S-1-5-21-[0-9-]+1001, not SYSTEM/],
    ['ours, but inheriting ProgramData\'s ACL', 'O:BAG:SYD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)', /its ACL inherits from its parent/],
    ['that is a junction (elsewhere), however its ACL looks', PROTECTED, /it is a reparse point \(junction or symbolic link\)/, 'C:\\Users\\Public\\planted'],
    ['ours, but granting Users', 'O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;BU)', /admits more than SYSTEM and Administrators: A;OICI;S-1-5-32-545/],
  ])('refuses a pre-existing rdpfix folder %s, and changes nothing', async (_what, sddl, message, reparseTarget?: string) => {
    const host = makeLabHost((s) => { s.files['C:\\ProgramData\\rdpfix'] = { type: 'directory', sddl, ...(reparseTarget ? { reparseTarget } : {}) }; });
    const pre = host.read();
    const r = await runLab(host.statePath, init, [input()]);
    expect(r.error?.message).toMatch(message);
    expect(r.error?.message).toMatch(/Check what it holds, remove it, and run again/);
    expect(host.read()).toEqual(pre);
    expect(JSON.parse((await runLab(host.statePath, refusal, [input()])).output[0] as string).refusal).toMatch(message);
  });

  it.each([
    ['shutting Administrators out', `O:${USER}G:SYD:PAI(A;OICI;FA;;;${USER})`, /Administrators may not read it \(access denied\)/],
    ['readable by Administrators', `O:${USER}G:SYD:PAI(A;OICI;FA;;;${USER})(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)`, /its owner is S-1-5-21-/],
  ])('refuses a user-made level further down too (backup inside our own rdpfix), %s', async (_what, sddl, message) => {
    const host = makeLabHost((s) => {
      s.files['C:\\ProgramData\\rdpfix'] = { type: 'directory', sddl: PROTECTED };
      s.files['C:\\ProgramData\\rdpfix\\backup'] = { type: 'directory', sddl };
    });
    const r = await runLab(host.statePath, init, [input()]);
    expect(r.error?.message).toMatch(/C:\\ProgramData\\rdpfix\\backup exists and is not rdpfix's own: /);
    expect(r.error?.message).toMatch(message);
    expect(Object.keys(host.read().files).filter((f) => f.includes('run-1'))).toEqual([]);
  });
});
