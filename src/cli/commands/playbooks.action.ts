import { versioned } from '../../json-schema.js';
import { loadCatalogue } from '../../playbooks/manifest.js';
import { createPlaybookMachine } from '../../../machines/playbook.machine.js';
import { toMermaid } from '../../../machines/mermaid.js';
import { playbookInfo } from '../../engine/runner.js';
import { builtInPlaybooks, playbookDirs } from '../engine-options.js';
import { validatePlaybooks } from '../../playbooks/validate.js';
import { locatePowerShell } from '../../powershell/locate.js';
import { resolveSettings } from '../../config/settings.js';
import { EXIT } from '../exit.js';
import { escapeControl, escapeControlKeepLines } from '../../safe-text.js';
import { RdpfixError } from '../../errors.js';
import { renderTable } from '../table.js';

export interface Flags {
  playbooks: string[];
  json: boolean;
  graph?: boolean;
}

// `rdpfix playbooks …`: loaded only when a playbooks command runs (see playbooks.command.ts).

export function playbooksListAction(f: Flags): void {
  const all = [...loadCatalogue(playbookDirs(resolveSettings({ playbooks: f.playbooks }))).values()];
  if (f.json) return console.log(JSON.stringify(versioned('playbooks', { playbooks: all.map(({ scripts: _s, ...p }) => p) }), null, 2));
  if (!all.length) return console.log('No playbooks found.');
  console.log(renderTable(['ID', 'RISK', 'STEPS', 'CAUSES', 'TITLE'], all.map((p) => [p.id, p.risk, String(p.steps.length), p.causes.join(','), p.title])));
}

export function playbooksShowAction(id: string, f: Flags): void {
  const cat = loadCatalogue(playbookDirs(resolveSettings({ playbooks: f.playbooks })));
  const p = cat.get(id);
  if (!p) throw new RdpfixError('usage', `Unknown playbook '${id}'.`, `Known: ${[...cat.keys()].join(', ') || 'none'}.`);
  if (f.graph) return console.log(toMermaid(createPlaybookMachine(playbookInfo(p))));
  const { scripts: _s, ...rest } = p;
  if (f.json) return console.log(JSON.stringify(versioned('playbook', rest), null, 2));
  // Manifest text reaches the terminal: control characters escaped (renderTable does the same for cells).
  console.log(escapeControlKeepLines(`${p.id} v${p.version}: ${escapeControl(p.title)}\n${p.description}\nrisk ${p.risk}; causes ${escapeControl(p.causes.join(', '))}; digest ${p.digest.slice(0, 16)}`));
  console.log(renderTable(['STEP', 'TITLE', 'UNDO', 'TIMEOUT'], p.steps.map((s) => [s.id, s.title, s.irreversible ? 'IRREVERSIBLE' : 'yes', `${s.timeoutSeconds}s`])));
}

export function playbooksValidateAction(dir: string, f: Flags): void {
  const report = validatePlaybooks(dir, { builtInDir: builtInPlaybooks(), pwsh: locatePowerShell(resolveSettings().pwsh.value).executable });
  const ok = report.problems.length === 0;
  if (f.json) console.log(JSON.stringify(versioned('playbooks-validate', { ok, playbooks: report.playbooks, problems: report.problems }), null, 2));
  else if (ok) console.log(`${dir}: ${report.playbooks.length} playbook(s) valid: ${report.playbooks.join(', ') || 'none'}.`);
  if (!ok && !f.json) {
    throw new RdpfixError('input', `${dir}: ${report.problems.length} problem(s):\n${report.problems.map((p) => `  - ${p}`).join('\n')}`, 'Fix each problem listed; docs/playbooks.md describes the format.');
  }
  if (!ok) process.exitCode = EXIT.usage;
}
