import vm from 'node:vm';

/**
 * Parameter `pattern`s come from playbook folders and run against values from the command line and from
 * diagnoses (host output). JavaScript regexes backtrack: `^(a+)+$` takes seconds on 27 characters. So a
 * pattern is refused when it repeats, without a small bound, a part that itself repeats or alternates (the
 * shapes that backtrack exponentially), or uses backreferences; and every match runs under a time limit,
 * which also bounds the polynomial cases no static check catches.
 */

export const MAX_PATTERN_LENGTH = 2000;
/** Generous on purpose: patterns that backtrack exponentially are refused before they run, so this bounds only what
 *  no static check catches; a tight limit fails honest values on a loaded controller (seen at 200 ms). */
export const MATCH_TIME_LIMIT_MS = 2000;

interface Frame {
  /** The group holds a repeating quantifier (max > 1) somewhere inside. */
  repeats: boolean;
  /** The group holds an alternation `|` at its own level or deeper. */
  alternates: boolean;
}

/** Parses `{n}`, `{n,}`, `{n,m}` at i; returns its max (Infinity when open) and length, or null (a literal `{`). */
function braces(p: string, i: number): { max: number; length: number } | null {
  const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
  if (!m) return null;
  const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
  return { max, length: m[0].length };
}

/** Why a pattern could backtrack catastrophically, or null. Assumes the pattern compiles. */
export function patternRisk(p: string): string | null {
  if (p.length > MAX_PATTERN_LENGTH) return `is longer than ${MAX_PATTERN_LENGTH} characters`;
  const stack: Frame[] = [{ repeats: false, alternates: false }];
  let lastGroup: Frame | null = null; // the group that just closed: a quantifier next applies to it
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    let quantMax = 0;
    let length = 1;
    if (c === '\\') {
      const next = p[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'uses a backreference (these can take exponential time)';
      i += 2;
      lastGroup = null;
      continue;
    }
    if (c === '[') {
      // A character class: skip to its closing bracket (escapes inside are skipped too).
      let j = i + 1;
      if (p[j] === '^') j++;
      if (p[j] === ']') j++;
      while (j < p.length && p[j] !== ']') j += p[j] === '\\' ? 2 : 1;
      i = j + 1;
      lastGroup = null;
      continue;
    }
    if (c === '(') {
      stack.push({ repeats: false, alternates: false });
      i += p[i + 1] === '?' ? 3 : 1; // '(?:', '(?=', '(?<name>': what follows '(?' is no quantifier
      lastGroup = null;
      continue;
    }
    if (c === ')') {
      const closed = stack.length > 1 ? stack.pop()! : { repeats: false, alternates: false };
      const parent = stack[stack.length - 1]!;
      parent.repeats ||= closed.repeats;
      parent.alternates ||= closed.alternates;
      lastGroup = closed;
      i++;
      continue;
    }
    if (c === '|') {
      stack[stack.length - 1]!.alternates = true;
      lastGroup = null;
      i++;
      continue;
    }
    if (c === '*' || c === '+') quantMax = Infinity;
    else if (c === '?') quantMax = 1;
    else if (c === '{') {
      const b = braces(p, i);
      if (b) {
        quantMax = b.max;
        length = b.length;
      }
    }
    if (quantMax > 0) {
      if (p[i + length] === '?' || p[i + length] === '+') length++; // lazy (or a second quantifier, which does not compile)
      if (quantMax > 1) {
        if (lastGroup && (lastGroup.repeats || lastGroup.alternates) && quantMax > 10) {
          return lastGroup.repeats
            ? 'repeats a group that itself repeats, e.g. (a+)+ (this can take exponential time; bound the outer repeat to {0,10} or less, or flatten it)'
            : 'repeats a group with alternatives, e.g. (a|ab)* (this can take exponential time; bound the repeat to {0,10} or less)';
        }
        stack[stack.length - 1]!.repeats = true;
      }
      lastGroup = null;
      i += length;
      continue;
    }
    lastGroup = null;
    i++;
  }
  return null;
}

/** Why a pattern cannot be used as a parameter pattern (does not compile, or is risky), or null. */
export function patternProblem(p: string): string | null {
  try {
    new RegExp(p);
  } catch (err) {
    return `is not a valid regular expression (${(err as Error).message.replace(/^Invalid regular expression: /, '')})`;
  }
  return patternRisk(p);
}

const context = vm.createContext(Object.create(null) as object);
const matchScript = new vm.Script('new RegExp(pattern).test(value)');

/**
 * Whether `value` matches `pattern`, given at most MATCH_TIME_LIMIT_MS; 'timeout' when it took longer.
 * The match runs in a vm context with a timeout, which V8 can interrupt mid-backtrack.
 */
export function boundedMatch(pattern: string, value: string): boolean | 'timeout' {
  const ctx = context as { pattern?: string; value?: string };
  ctx.pattern = pattern;
  ctx.value = value;
  try {
    return matchScript.runInContext(context, { timeout: MATCH_TIME_LIMIT_MS }) as boolean;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'timeout';
    throw err;
  } finally {
    delete ctx.pattern;
    delete ctx.value;
  }
}
