import { escapeControl } from '../safe-text.js';

/**
 * A plain text table: no colour, no box drawing, so it reads the same in a terminal and in CI logs. Cells
 * hold text from manifests and hosts, so control characters are shown escaped, never sent to the terminal.
 */
export function renderTable(headers: string[], rows: string[][]): string {
  const safe = rows.map((r) => r.map((c) => escapeControl(c ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...safe.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...safe.map(line)].join('\n');
}
