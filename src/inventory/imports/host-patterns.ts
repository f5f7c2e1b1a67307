/**
 * Ansible's host ranges: `web[01:20].corp`, `db-[a:f]`, `[1:9:2]` (with a stride). A leading zero fixes the width,
 * as in Ansible. Bounded: an inventory line may not expand past MAX_EXPANDED names (a typo like [1:99999999] is
 * bad input, not a memory test).
 */
export const MAX_EXPANDED = 100_000;

const RANGE = /\[([^\]:]+):([^\]:]+)(?::(\d+))?\]/;

export function expandHostPattern(pattern: string): string[] {
  const m = RANGE.exec(pattern);
  if (!m) return [pattern];
  const [whole, from, to, strideText] = m as unknown as [string, string, string, string | undefined];
  const stride = strideText === undefined ? 1 : Number(strideText);
  if (!(stride >= 1)) throw new Error(`range ${whole}: the stride must be a positive number`);
  const head = pattern.slice(0, m.index);
  const tail = pattern.slice(m.index + whole.length);
  let items: string[];
  if (/^\d+$/.test(from) && /^\d+$/.test(to)) {
    const a = Number(from);
    const b = Number(to);
    if (a > b) throw new Error(`range ${whole}: the start is after the end`);
    if ((b - a) / stride + 1 > MAX_EXPANDED) throw new Error(`range ${whole} names more than ${MAX_EXPANDED} hosts`);
    const width = from.startsWith('0') && from.length > 1 ? from.length : 0;
    items = [];
    for (let i = a; i <= b; i += stride) items.push(String(i).padStart(width, '0'));
  } else if (/^[a-z]$/.test(from) && /^[a-z]$/.test(to) || /^[A-Z]$/.test(from) && /^[A-Z]$/.test(to)) {
    const a = from.charCodeAt(0);
    const b = to.charCodeAt(0);
    if (a > b) throw new Error(`range ${whole}: the start is after the end`);
    items = [];
    for (let i = a; i <= b; i += stride) items.push(String.fromCharCode(i));
  } else {
    throw new Error(`range ${whole}: use numbers ([01:20]) or single letters ([a:f])`);
  }
  const out: string[] = [];
  for (const item of items) {
    for (const name of expandHostPattern(head + item + tail)) {
      out.push(name);
      if (out.length > MAX_EXPANDED) throw new Error(`${pattern} names more than ${MAX_EXPANDED} hosts`);
    }
  }
  return out;
}
