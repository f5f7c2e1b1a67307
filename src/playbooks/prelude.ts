import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../paths.js';

/**
 * The host-side prelude (playbooks/_shared/prelude.ps1): input parsing, the result writer, registry capture/restore,
 * normalisers and rdpfix's protected folder, written once. It is inserted into each step script's text when the
 * playbook is loaded, so the text that is hashed into the playbook digest is the text that runs on the host — over
 * remoting, and unattended from the revert task — and still one standalone script.
 */
export const PRELUDE_FILE = path.join('playbooks', '_shared', 'prelude.ps1');

let cached: string | undefined;
export function preludeText(): string {
  return (cached ??= readFileSync(path.join(projectRoot(), PRELUDE_FILE), 'utf8'));
}

/**
 * Where the prelude goes: after the script's leading comments and its param() block (which PowerShell requires to
 * come first), or at the top of a script without one. Parentheses inside quotes and comments of the block are skipped.
 */
export function preludeOffset(script: string): number {
  let i = 0;
  const n = script.length;
  const skipTrivia = () => {
    for (;;) {
      while (i < n && /\s/.test(script[i]!)) i++;
      if (script.startsWith('<#', i)) {
        const end = script.indexOf('#>', i + 2);
        i = end < 0 ? n : end + 2;
      } else if (script[i] === '#') {
        while (i < n && script[i] !== '\n') i++;
      } else return;
    }
  };
  skipTrivia();
  // [CmdletBinding()] and other attributes may precede param.
  while (script[i] === '[') {
    const close = matchingClose(script, i, '[', ']');
    if (close < 0) return 0;
    i = close + 1;
    skipTrivia();
  }
  const m = /^param\s*\(/i.exec(script.slice(i));
  if (!m) return 0;
  const close = matchingClose(script, i + m[0].length - 1, '(', ')');
  if (close < 0) return 0;
  const eol = script.indexOf('\n', close);
  return eol < 0 ? n : eol + 1;
}

function matchingClose(s: string, open: number, o: string, c: string): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "'" || ch === '"') {
      const end = s.indexOf(ch, i + 1);
      if (end < 0) return -1;
      i = end;
    } else if (ch === '#' && s[i - 1] !== '<') {
      const end = s.indexOf('\n', i);
      if (end < 0) return -1;
      i = end;
    } else if (ch === o) depth++;
    else if (ch === c && --depth === 0) return i;
  }
  return -1;
}

/** A step script as it is sent: its param() block, the prelude, then the rest of the script. */
export function withPrelude(script: string, prelude: string = preludeText()): string {
  const at = preludeOffset(script);
  const head = script.slice(0, at);
  const sep = head === '' || head.endsWith('\n') ? '' : '\n';
  return `${head}${sep}${prelude.endsWith('\n') ? prelude : `${prelude}\n`}${script.slice(at)}`;
}
