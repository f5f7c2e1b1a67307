import type { YAMLError } from 'yaml';

/**
 * File content that reaches a terminal (inventory and playbook excerpts in errors, host output in tables)
 * is untrusted: an escape sequence in it could retitle or clear the terminal, or fake output. These helpers
 * turn such text into something that shows what it is and does nothing.
 */

// C0 controls, DEL, C1 controls, and the Unicode bidi/format overrides that reorder what a reader sees.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/gu;
const UNSAFE_KEEP_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/gu;

function escapeChar(c: string): string {
  const code = c.codePointAt(0)!;
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Every control or reordering character shown escaped (`\x1b`, `\n`, `\u202e`): one inert line. */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** As escapeControl, but line breaks stay: for rdpfix's own multi-line messages. */
export function escapeControlKeepLines(text: string): string {
  return text.replace(UNSAFE_KEEP_NEWLINE, escapeChar);
}

/** Keys whose values must never be echoed, even from a file that should not have held them. */
const SECRET_KEY = /(pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|credential|private[_-]?key|auth[_-]?key)[A-Za-z0-9_-]*["']?\s*[:=]/i;

/** A line of file content, with everything after a secret-looking key replaced (the rest of the line may be the secret). */
export function redactSecrets(line: string): string {
  const m = SECRET_KEY.exec(line);
  if (!m) return line;
  return `${line.slice(0, m.index + m[0].length)} <redacted>`;
}

/** File content quoted in an error: secrets redacted, controls escaped, long text cut. */
export function excerpt(text: string, max = 120, { trim = true } = {}): string {
  const safe = escapeControl(redactSecrets(trim ? text.trim() : text));
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}

/** A value the user typed, quoted in an error: controls and line breaks escaped, long values cut. */
export function quoteValue(value: string, max = 40): string {
  return `'${excerpt(value, max, { trim: false })}'`;
}

/** Up to `max` values quoted, then how many more: a hostile list never floods the terminal. */
export function quoteValues(values: string[], max = 5): string {
  const shown = values.slice(0, max).map((v) => quoteValue(v)).join(', ');
  return values.length > max ? `${shown} and ${values.length - max} more` : shown;
}

/** The values that appear more than once (`key` decides sameness), each once, in first-seen order. */
export function duplicatesOf(values: string[], key: (v: string) => string = (v) => v): string[] {
  const seen = new Set<string>();
  const dups = new Map<string, string>();
  for (const v of values) {
    const k = key(v);
    if (seen.has(k) && !dups.has(k)) dups.set(k, v);
    seen.add(k);
  }
  return [...dups.values()];
}

/**
 * The yaml library's YAMLParseError / YAMLWarning (both set `name` so), recognised without importing the library:
 * it costs ~100 ms to load, and exit.ts / table.ts (which reach this module) must stay light for `--help`.
 */
function isYamlError(err: unknown): err is YAMLError {
  return err instanceof Error && /^YAML(ParseError|Warning)$/.test(err.name) && typeof (err as { code?: unknown }).code === 'string';
}

/**
 * Why a YAML text did not parse, on one line: where, what, and the offending line (redacted, escaped).
 * Also covers the resource limits: too many aliases (billion laughs) and nesting too deep for the stack.
 */
export function yamlProblem(err: unknown): string {
  if (isYamlError(err)) {
    const lines = err.message.split('\n');
    const what = lines[0]!.replace(/ at line \d+, column \d+:?\s*$/, '');
    const pos = err.linePos?.[0];
    const near = lines.slice(1).find((l) => l.trim() && !/^\s*\^+\s*$/.test(l));
    return `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}${escapeControl(what)}${near ? ` (near: ${excerpt(near)})` : ''}`;
  }
  if (err instanceof RangeError) return 'it is nested too deeply';
  const message = (err as Error)?.message ?? String(err);
  if (/alias/i.test(message)) return 'it uses too many aliases (a YAML alias bomb?)';
  return excerpt(message.split('\n')[0] ?? '', 200);
}

/** Deeper than any inventory or manifest needs; far below where the YAML parser's recursion runs out of stack. */
export const MAX_YAML_NESTING = 64;

/**
 * Why a YAML text nests too deeply to hand to the parser, or null. The parser recurses per level, and near
 * the end of the stack V8 can fail fatally (not with a catchable error), so depth is counted first: flow
 * brackets outside quotes and comments, compact `- - -` chains, and indentation.
 */
export function yamlNestingProblem(text: string): string | null {
  let depth = 0;
  let quote: string | null = null;
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    const indent = /^[ \t]*/.exec(line)![0].length;
    const compact = /^(?:[-?:][ \t]+)*/.exec(line.slice(indent))![0].replace(/[ \t]/g, '').length;
    if (indent > MAX_YAML_NESTING * 4 || compact > MAX_YAML_NESTING) return `line ${lineNo}: it is nested too deeply (more than ${MAX_YAML_NESTING} levels)`;
    for (let i = indent; i < line.length; i++) {
      const c = line[i]!;
      if (quote) {
        if (c === quote) quote = null;
        else if (c === '\\' && quote === '"') i++;
        continue;
      }
      if (c === '"' || (c === "'" && (i === 0 || /[\s\[{,:]/.test(line[i - 1]!)))) quote = c;
      else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) break;
      else if (c === '[' || c === '{') {
        if (++depth > MAX_YAML_NESTING) return `line ${lineNo}: it is nested too deeply (more than ${MAX_YAML_NESTING} levels)`;
      } else if ((c === ']' || c === '}') && depth > 0) depth--;
    }
    if (quote === "'") quote = null; // an unterminated single quote ends with its line for counting purposes
  }
  return null;
}

/** YAML options for files rdpfix reads: errors thrown (never printed by the library), aliases bounded. */
export const YAML_READ_OPTIONS = { logLevel: 'error', maxAliasCount: 100, prettyErrors: true, uniqueKeys: true } as const;
