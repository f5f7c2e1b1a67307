import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';
import { locatePowerShell } from '../../src/powershell/locate.js';
import { loadCatalogue } from '../../src/playbooks/manifest.js';

/**
 * Every PowerShell file rdpfix ships must run on Windows PowerShell 5.1 (shared reference section 12):
 * scripts/check-ps51.ps1 must find nothing in them. Deliberate, version-checked PowerShell 7-only calls carry `# ps51-ok: <reason>`.
 */

interface Ps51Finding {
  path: string;
  line: number;
  column: number;
  rule: string;
  section: string;
  message: string;
}

const root = projectRoot();
const checker = path.join(root, 'scripts', 'check-ps51.ps1');

/** Runs the checker over the folders that exist; returns the findings as 'file:line:col: rule: message' lines. */
function check(folders: string[], base = root): { checked: string[]; findings: string[] } {
  const checked = folders.filter((f) => existsSync(path.join(base, f)));
  if (checked.length === 0) return { checked, findings: [] };
  const pwsh = locatePowerShell().executable;
  const r = spawnSync(pwsh, ['-NoProfile', '-NonInteractive', '-File', checker, '-Json', '-Path', ...checked.map((f) => path.join(base, f))], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 170_000,
  });
  if (r.error) throw r.error;
  if (r.status !== 0 && r.status !== 1) throw new Error(`check-ps51.ps1 exited ${r.status}: ${r.stderr}`);
  const parsed = r.stdout.trim() === '' ? [] : (JSON.parse(r.stdout) as Ps51Finding[]);
  expect(r.status).toBe(parsed.length > 0 ? 1 : 0);
  const findings = parsed.map(
    (f) => `${path.relative(base, f.path)}:${f.line}:${f.column}: ${f.rule}: ${f.message} (reference ${f.section})`,
  );
  return { checked, findings };
}

describe('Windows PowerShell 5.1 compatibility of the repository', () => {
  it('host-side scripts (src/probe/ps, src/revert/ps, src/conform/ps, playbooks) use nothing Windows PowerShell 5.1 lacks', () => {
    const { checked, findings } = check(['src/probe/ps', 'src/revert/ps', 'src/conform/ps', 'playbooks']);
    expect(checked).toEqual(['src/probe/ps', 'src/revert/ps', 'src/conform/ps', 'playbooks']);
    expect(findings.length, `host-side scripts with constructs Windows PowerShell 5.1 lacks:\n${findings.join('\n')}\n`).toBe(0);
  }, 180_000);

  it('step scripts as they are sent (each with the shared prelude inserted) are Windows PowerShell 5.1 code', () => {
    const sent = mkdtempSync(path.join(tmpdir(), 'rdpfix-sent-'));
    for (const pb of loadCatalogue([path.join(root, 'playbooks')]).values()) {
      mkdirSync(path.join(sent, pb.id));
      for (const [name, text] of Object.entries(pb.scripts)) writeFileSync(path.join(sent, pb.id, name), text);
    }
    const { checked, findings } = check(['.'], sent);
    expect(checked).toEqual(['.']);
    expect(findings.length, `step scripts as sent with constructs Windows PowerShell 5.1 lacks:\n${findings.join('\n')}\n`).toBe(0);
  }, 180_000);

  it('the checker itself is Windows PowerShell 5.1 code', () => {
    const { findings } = check(['scripts/check-ps51.ps1']);
    expect(findings.length, `${findings.join('\n')}\n`).toBe(0);
  }, 180_000);

  it('controller-side modules (src/broker/ps, src/lab/ps) stay 5.1-compatible; PS7-only calls are version-checked and marked # ps51-ok', () => {
    const { checked, findings } = check(['src/broker/ps', 'src/lab/ps']);
    expect(checked.length).toBeGreaterThan(0);
    // The count, not the list, is compared, so that the list is printed once (in the message), one finding a line.
    expect(
      findings.length,
      `${findings.length} unmarked Windows PowerShell 5.1 incompatibilities in controller-side modules ` +
        `(fix them, or version-check a deliberate PowerShell 7-only call and mark the line '# ps51-ok: <reason>'):\n${findings.join('\n')}\n`,
    ).toBe(0);
  }, 180_000);
});
