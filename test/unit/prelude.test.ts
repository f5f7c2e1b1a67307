import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { preludeOffset, preludeText, withPrelude } from '../../src/playbooks/prelude.js';
import { loadCatalogue, loadPlaybook } from '../../src/playbooks/manifest.js';
import { fixturePlaybooks } from '../helpers/engine.js';
import { projectRoot } from '../../src/paths.js';

describe('the host-side prelude is inserted into each step script', () => {
  const P = '# PRELUDE\n';

  it('after the leading comments and the param() block, which PowerShell requires first', () => {
    const s = '# what it does\n<# more\n( #>\nparam([Parameter(Mandatory)][string]$InputJson)\n$in = 1\n';
    expect(withPrelude(s, P)).toBe('# what it does\n<# more\n( #>\nparam([Parameter(Mandatory)][string]$InputJson)\n# PRELUDE\n$in = 1\n');
  });

  it('after a multi-line param block with attributes, quoted parentheses and comments', () => {
    const s = "[CmdletBinding()]\nparam(\n  [ValidatePattern('^(a|b)$')][string]$X, # a ) in a comment\n  [string]$Y = \")\"\n)\nWrite-Output 1\n";
    expect(withPrelude(s, P)).toBe(`${s.slice(0, s.indexOf('Write-Output'))}# PRELUDE\nWrite-Output 1\n`);
  });

  it('at the top of a script without a param block, and after a param block on the last line', () => {
    expect(withPrelude('$x = 1\n', P)).toBe('# PRELUDE\n$x = 1\n');
    expect(withPrelude('# c\n$x = (1)\n', P)).toBe('# PRELUDE\n# c\n$x = (1)\n');
    expect(withPrelude('param($a)', P)).toBe('param($a)\n# PRELUDE\n');
    expect(preludeOffset('parameters')).toBe(0);
  });

  it('so that the loaded script text (what is sent and what the digest covers) holds the prelude', () => {
    const pb = loadPlaybook(path.join(projectRoot(), 'playbooks', 'enable-remote-desktop'));
    for (const text of Object.values(pb.scripts)) {
      expect(text).toContain(preludeText());
      expect(text.indexOf(preludeText())).toBeGreaterThan(text.search(/^param\(/m));
    }
  });

  it('and the playbook digest (what resume and rollback compare) is taken over the scripts with the prelude', () => {
    const dir = path.join(projectRoot(), 'playbooks', 'session-limits');
    const pb = loadPlaybook(dir);
    const digest = (script: (raw: string) => string) => {
      const h = createHash('sha256').update(readFileSync(path.join(dir, 'playbook.yaml'), 'utf8'));
      h.update(`\0session-limits.ps1\0${script(readFileSync(path.join(dir, 'session-limits.ps1'), 'utf8'))}`);
      return h.digest('hex');
    };
    expect(pb.digest).toBe(digest((raw) => withPrelude(raw)));
    expect(pb.digest).not.toBe(digest((raw) => withPrelude(raw, `${preludeText()}# changed\n`)));
  });

  it('each playbook script names exactly its manifest\'s steps and parameters (Read-RdpfixInput refuses the rest)', () => {
    const names = (list: string) => [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]!).sort();
    for (const pb of loadCatalogue([path.join(projectRoot(), 'playbooks'), fixturePlaybooks()]).values()) {
      for (const [file, text] of Object.entries(pb.scripts)) {
        const m = /\$in = Read-RdpfixInput -Json \$InputJson -Steps (.+?) -Parameters (.+)$/m.exec(text);
        expect(m, `${pb.id}/${file} reads its input with Read-RdpfixInput -Steps … -Parameters …`).not.toBeNull();
        expect(names(m![1]!), `${pb.id}/${file} -Steps`).toEqual(pb.steps.map((x) => x.id).sort());
        expect(names(m![2]!), `${pb.id}/${file} -Parameters`).toEqual(Object.keys(pb.parameters).sort());
      }
    }
  });
});
