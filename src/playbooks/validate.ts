import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { RdpfixError } from '../errors.js';
import { projectRoot } from '../paths.js';
import { escapeControl } from '../safe-text.js';
import { inspectCatalogue } from './manifest.js';

/**
 * `rdpfix playbooks validate DIR`: everything that can be known about a folder of playbooks (or one
 * playbook folder) before it runs on a host. On top of the catalogue checks (manifests, scripts, order
 * hints and cycles), the scripts go through the real PowerShell parser and scripts/check-ps51.ps1 (host-side
 * scripts must run on Windows PowerShell 5.1), and ids must not clash with the built-in playbooks.
 */
export interface ValidationReport {
  dir: string;
  playbooks: string[];
  problems: string[];
}

interface Ps51Finding {
  path: string;
  line: number;
  column: number;
  rule: string;
  message: string;
}

/** Ids of the playbooks in a folder: folder names holding a playbook.yaml (the id must match the name). */
function playbookIdsIn(dir: string): string[] {
  try {
    return readdirSync(dir).filter((e) => existsSync(path.join(dir, e, 'playbook.yaml')));
  } catch {
    return [];
  }
}

const sameOrInside = (inner: string, outer: string) => {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

export function validatePlaybooks(dir: string, options: { builtInDir: string; pwsh: string }): ValidationReport {
  let real: string | undefined;
  try {
    real = realpathSync(dir);
  } catch {
    // inspectCatalogue reports it
  }
  const builtIn = real && sameOrInside(real, realpathSync(options.builtInDir)) ? [] : playbookIdsIn(options.builtInDir);
  const { playbooks, problems, scriptFiles } = inspectCatalogue([dir], builtIn);
  for (const pb of playbooks.values()) {
    if (builtIn.includes(pb.id)) problems.push(`${path.join(pb.dir, 'playbook.yaml')}: id: '${pb.id}' is the id of a built-in playbook (${path.join(options.builtInDir, pb.id)}); rename it`);
  }
  problems.push(...powerShellProblems(scriptFiles, options.pwsh));
  if (!playbooks.size && !problems.length) problems.push(`${dir} holds no playbook (a folder with playbook.yaml, or a folder of such folders)`);
  return { dir, playbooks: [...playbooks.keys()], problems };
}

/** Parse errors and Windows PowerShell 5.1 incompatibilities of the scripts, from scripts/check-ps51.ps1. */
function powerShellProblems(files: string[], pwsh: string): string[] {
  if (!files.length) return [];
  const checker = path.join(projectRoot(), 'scripts', 'check-ps51.ps1');
  const r = spawnSync(pwsh, ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', checker, '-Json', '-Path', ...files.map((f) => path.resolve(f))], {
    encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 300_000, env: { ...process.env, NO_COLOR: '1', TERM: 'dumb' },
  });
  if (r.error || (r.status !== 0 && r.status !== 1)) {
    throw new RdpfixError('config', `The PowerShell checks of the scripts could not run (${pwsh}): ${escapeControl(r.error?.message ?? `exit ${r.status}: ${r.stderr.slice(0, 300)}`)}.`,
      'Check that PowerShell works (`npm run provision`, or --pwsh / RDPFIX_PWSH).');
  }
  let findings: Ps51Finding[];
  try {
    const text = r.stdout.trim();
    findings = text === '' ? [] : ([] as Ps51Finding[]).concat(JSON.parse(text) as Ps51Finding | Ps51Finding[]);
  } catch {
    throw new RdpfixError('config', `The PowerShell checks of the scripts returned something other than JSON: ${escapeControl(r.stdout.slice(0, 200))}.`, 'Check that PowerShell works (`npm run provision`).');
  }
  return findings.map((f) => `${f.path}:${f.line}:${f.column}: ${f.rule === 'parse-error' ? 'PowerShell syntax error' : `not Windows PowerShell 5.1 (${f.rule})`}: ${f.message}`);
}
