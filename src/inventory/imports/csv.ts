import { ImportProblem } from './imported.js';

/**
 * RFC 4180 CSV with a header row: quoted fields may hold the delimiter, quotes ("") and line breaks. The delimiter
 * is ',' or, when the header has ';' and no ',' (spreadsheets in many European locales), ';'.
 */
export function parseCsv(text: string): { header: string[]; rows: { line: number; cells: string[] }[] } {
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = body.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = !firstLine.includes(',') && firstLine.includes(';') ? ';' : ',';
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let atCellStart = true;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        cell += c;
      }
      continue;
    }
    if (c === '"' && atCellStart) {
      quoted = true;
      atCellStart = false;
    } else if (c === delimiter) {
      cells.push(cell);
      cell = '';
      atCellStart = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && body[i + 1] === '\n') i++;
      cells.push(cell);
      if (cells.some((x) => x.trim() !== '')) records.push({ line: recordLine, cells });
      cells = [];
      cell = '';
      atCellStart = true;
      line++;
      recordLine = line;
    } else {
      if (c === '"') throw new ImportProblem(`line ${line}: a quote inside an unquoted field (quote the whole field and double the quote: "a ""b""")`);
      cell += c;
      atCellStart = false;
    }
  }
  if (quoted) throw new ImportProblem(`line ${recordLine}: a quoted field is not closed`);
  cells.push(cell);
  if (cells.some((x) => x.trim() !== '')) records.push({ line: recordLine, cells });
  const [head, ...rows] = records;
  if (!head) throw new ImportProblem('the file is empty (a CSV inventory starts with a header row, e.g. name,address,transport)');
  return { header: head.cells.map((h) => h.trim()), rows: rows.map((r) => ({ line: r.line, cells: r.cells.map((x) => x.trim()) })) };
}
