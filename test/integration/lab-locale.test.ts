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

  for (const bad of ['xx-XX', 'de-de', '$comment', "de-DE;Remove-Item x", 'x'.repeat(300)]) {
    it(`refuses locale ${JSON.stringify(bad.slice(0, 24))} in Get-UICulture and in localized text, naming it and the known ones`, async () => {
      // Both lookups in one pwsh run: each catches its own refusal.
      const r = await runLab(hostIn(bad).statePath, `foreach ($f in { Get-UICulture }, { (Get-LabLocale).sessions.none }) { try { & $f } catch { $_.Exception.Message } }`);
      const shown = bad.length > 40 ? `${bad.slice(0, 40)}...` : bad;
      const refusal = `lab: host 'LAB-LOC' has locale '${shown}', which the lab has no model of (src/lab/locales.json knows ${KNOWN}). Set the host's locale to one of them.`;
      expect(r).toMatchObject({ error: null, output: [refusal, refusal] });
    });
  }
});
