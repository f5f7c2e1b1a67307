import { describe, it, expect } from 'vitest';
import { makeLabHost, runLab } from '../helpers/lab.js';
import { LAB_LOCALES } from '../../src/lab/locales.js';

// A host's display language is looked up in one place (Get-LabLocale, RdpfixLab.psm1): Get-UICulture and the
// localized tool text (quser, account names) agree, and a locale the lab has no model of is refused everywhere.
const KNOWN = LAB_LOCALES.join(', ');
const hostIn = (locale: string) => makeLabHost((s) => { (s as { locale: string }).locale = locale; s.computerName = 'LAB-LOC'; });

describe('the lab host locale', () => {
  it('Get-UICulture answers the host locale, and the same lookup gives its tool text', async () => {
    const host = hostIn('ru-RU');
    const r = await runLab(host.statePath, `(Get-UICulture).Name; (Get-LabLocale).sessions.none; Get-LabLocale -Name`);
    expect(r.error).toBeNull();
    expect(r.output).toEqual(['ru-RU', 'отсутствует', 'ru-RU']);
  });

  it('an empty locale is en-US (the state default), as it was before locales existed', async () => {
    const r = await runLab(hostIn('').statePath, `(Get-UICulture).Name`);
    expect(r).toMatchObject({ error: null, output: ['en-US'] });
  });

  // All five refusals in one pwsh run (a start costs seconds): the script enters each host in turn.
  const BAD = ['xx-XX', 'de-de', '$comment', "de-DE;Remove-Item x", 'x'.repeat(300)];
  let refusals: Promise<unknown[]> | undefined;
  const refusalsOf = () => (refusals ??= (async () => {
    const hosts = BAD.map(hostIn);
    const r = await runLab(hosts[0]!.statePath, `param([string[]]$Paths)
foreach ($p in $Paths) {
  Exit-LabHost; Enter-LabHost -StatePath $p
  foreach ($f in { Get-UICulture }, { (Get-LabLocale).sessions.none }) { try { & $f } catch { $_.Exception.Message } }
}`, [hosts.map((h) => h.statePath)]);
    expect(r.error).toBeNull();
    return r.output;
  })());

  BAD.forEach((bad, i) => {
    it(`refuses locale ${JSON.stringify(bad.slice(0, 24))} in Get-UICulture and in localized text, naming it and the known ones`, async () => {
      const output = await refusalsOf();
      const shown = bad.length > 40 ? `${bad.slice(0, 40)}...` : bad;
      const refusal = `lab: host 'LAB-LOC' has locale '${shown}', which the lab has no model of (src/lab/locales.json knows ${KNOWN}). Set the host's locale to one of them.`;
      expect(output.slice(2 * i, 2 * i + 2)).toEqual([refusal, refusal]);
    });
  });
});
