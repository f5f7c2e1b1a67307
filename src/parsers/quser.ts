// parseQuser: the text `quser` (query user) and `qwinsta` (query session) print on Windows → sessions.
// A pure function: it never throws for text; whatever it cannot read it reports in `warnings` with its line number.
//
// "ref §n" = /work/shared/reference/windows-rdp.md; "facts §3" = docs/windows-facts/network-firewall-sessions-tasks.md
// (which also records the German and French samples with their sources).
//
// Why not split on whitespace and take fixed token positions: a disconnected session has an empty SESSIONNAME
// (ref §2.2), qwinsta's services/console/listener lines have an empty USERNAME (ref §2.3), and several real samples
// were re-aligned by the people who pasted them (header without its leading space, right-aligned session names,
// placeholders like `<valeur>`), so fixed column offsets are not reliable either. The parser anchors on the numeric
// ID token instead (ref §2.2 "detect the numeric ID token"), uses the header's `ID` position only to pick the right
// digit token when a user name is itself a number, and the header's second column only to place a lone name.
// Without a header line the row's own shape decides (parseHeaderless); localized listings read wherever their header
// titles and state words are sourced (facts §3, docs/windows-facts/locales.md).
//
// Column geometry is measured in display cells, not UTF-16 indices: quser/qwinsta pad to the console's cell grid,
// where a CJK character takes two cells (the real ja-JP qwinsta header `セッション名      ユーザー名 ... ID` ends its ID
// title at cell 46, over the rows' right-aligned IDs, but at index 35; locales.md). Text is still sliced by index.

export type QuserKind = 'quser' | 'qwinsta' | 'unknown';
export type QuserSessionState = 'Active' | 'Disconnected' | 'Connected' | 'Listening' | 'Down' | 'Idle' | 'Unknown';

export interface QuserSession {
  /** USERNAME; null when the column is empty (qwinsta services/console/listeners). */
  user: string | null;
  /** SESSIONNAME; null when empty (disconnected sessions, ref §2.2). Truncated names are kept as printed (`31c5ce94259d4...`). */
  sessionName: string | null;
  id: number;
  state: QuserSessionState;
  stateRaw: string;
  /** quser only: minutes idle; 0 for `.` (under a minute), null for `none`/`ninguno`/`Kein`/`aucun` or an unreadable value. */
  idleMinutes: number | null;
  idleRaw: string | null;
  /** quser only: LOGON TIME as printed, in the host user's locale (ref §2.2: never parse it with a fixed format). */
  logonTimeRaw: string | null;
  /** qwinsta only: TYPE (`rdpwd`, `wdcon`) and DEVICE; null when empty. Absent on quser rows. */
  type?: string | null;
  device?: string | null;
  /** The line starts with `>`. Under remoting qwinsta marks `services` and quser marks nothing (ref §2.3, facts §3 "Markers"). */
  current: boolean;
  /** 1-based line number in the input. */
  line: number;
}

export interface QuserResult {
  kind: QuserKind;
  sessions: QuserSession[];
  /** quser printed `No User exists for <selector>` (stderr, exit 1; ref §2.2). */
  noUsers: boolean;
  warnings: string[];
}

// Header first-column titles, per tool and language. quser starts with the user column, qwinsta with the session
// column; the first title is enough to tell them apart. Only titles seen in real output are listed:
//   en quser   ref §2.2 (njeffrey, HTB, UNT-CAS/QuserObject)     en qwinsta  ref §2.3 (njeffrey)
//   es quser   ref §2.2 (UNT-CAS/QuserObject es-EC fixture)
//   de quser   facts §3 (Windows-For-Kids README, batch comment) de qwinsta  facts §3 (Windows-For-Kids README)
//   fr quser   facts §3 (PsExec transcript, blog, Pester capture)
//   ru quser   locales.md (ServiceLogonMultifactor test comment, PowerShell homework transcript)
//   ja qwinsta locales.md (a C++ source comment pasting `query session` from a Japanese Windows)
// French and Spanish qwinsta, Russian qwinsta and Japanese quser titles are [UNSOURCED] (facts §3, locales.md), so
// such output yields kind 'unknown' with warnings.
const HEADERS: ReadonlyArray<{ kind: 'quser' | 'qwinsta'; first: string }> = [
  { kind: 'quser', first: 'USERNAME' },
  { kind: 'quser', first: 'NOMBRE USUARIO' },
  { kind: 'quser', first: 'BENUTZERNAME' },
  { kind: 'quser', first: 'UTILISATEUR' },
  { kind: 'quser', first: 'ПОЛЬЗОВАТЕЛЬ' },
  { kind: 'qwinsta', first: 'SESSIONNAME' },
  { kind: 'qwinsta', first: 'SITZUNGSNAME' },
  { kind: 'qwinsta', first: 'セッション名' },
];

// STATE words (compared lower-cased, so Microsoft's old lowercase qwinsta sample also reads). Sources:
//   Active/Disc/Conn/Listen: ref §2.2–2.3; Activo/Desc: es-EC, ref §2.2; Aktiv/Getr./Abhör.: German quser/qwinsta,
//   facts §3; Actif: French quser, facts §3; Активно: Russian quser, locales.md; idle: WSD query-session.md sample
//   (ref §2.3). The Japanese qwinsta sample prints the English words (Active/Disc/Listen), so ja needs none of its own.
//   Down: [INFERENCE] the WTSDown connect state; no sourced sample prints it.
// The lab's other localized words (Verb., Déco, Écouter, Escuchar, Диск, ...) are [UNSOURCED] in facts §3 and deliberately
// not listed: they come back as 'Unknown' with stateRaw and a warning, never as a guessed state.
const STATES: Readonly<Record<string, QuserSessionState>> = {
  active: 'Active', activo: 'Active', aktiv: 'Active', actif: 'Active', активно: 'Active',
  disc: 'Disconnected', desc: 'Disconnected', 'getr.': 'Disconnected',
  conn: 'Connected',
  listen: 'Listening', 'abhör.': 'Listening',
  idle: 'Idle',
  down: 'Down',
};

// IDLE TIME "no idle time recorded" words: none (ref §2.2), ninguno (es-EC, ref §2.2), Kein (de), aucun (fr) (facts §3),
// отсутствует (ru, locales.md).
const IDLE_NONE = new Set(['none', 'ninguno', 'kein', 'aucun', 'отсутствует']);

// IDLE TIME forms (ref §2.2): `.` under a minute, `<m>`, `<h>:<mm>`, `<d>+<hh>:<mm>`.
const IDLE_FORMS: ReadonlyArray<[RegExp, (m: RegExpExecArray) => number]> = [
  [/^\.$/, () => 0],
  [/^(\d+)$/, (m) => Number(m[1])],
  [/^(\d+):(\d{2})$/, (m) => Number(m[1]) * 60 + Number(m[2])],
  [/^(\d+)\+(\d{1,2}):(\d{2})$/, (m) => Number(m[1]) * 1440 + Number(m[2]) * 60 + Number(m[3])],
];

// A logon date in any of the sampled locales (7/20/2017, 2022-03-31, 28.04.2025, 23/10/2025): used only to notice a
// missing idle column, never to parse the date.
const DATE_LIKE = /^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$/;

const NO_USERS = /No User exists for /i; // ref §2.2; localized variants [UNSOURCED] (facts §3 keeps it English)
const ID_TITLE = /^ID\.?$/; // `ID` (en/de/fr), `ID.` (es)

/** start/end: UTF-16 indices (for slicing); col/colEnd: display cells (for geometry). */
interface Token { text: string; start: number; end: number; col: number; colEnd: number }
/** All positions in display cells. */
interface Header { kind: 'quser' | 'qwinsta'; col1: number; col2: number; idEnd: number }

// East Asian Wide and Fullwidth ranges (UAX #11) that Windows' console draws two cells wide: Hangul Jamo, CJK
// radicals to Yi (kana, ideographs, CJK punctuation), Hangul syllables, compatibility ideographs, vertical and small
// forms, fullwidth forms, and the supplementary ideograph planes. Halfwidth katakana (U+FF61-FF9F) stays one cell.
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6]|[\u{20000}-\u{3fffd}]/u;

/** The number of console cells `s` takes: 2 for a wide character, 1 for any other code point. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += WIDE.test(ch) ? 2 : 1;
  return w;
}

function tokens(line: string): Token[] {
  const out: Token[] = [];
  let cells = 0;
  let at = 0;
  for (const m of line.matchAll(/\S+/g)) {
    cells += displayWidth(line.slice(at, m.index));
    const width = displayWidth(m[0]);
    out.push({ text: m[0], start: m.index, end: m.index + m[0].length, col: cells, colEnd: cells + width });
    cells += width;
    at = m.index + m[0].length;
  }
  return out;
}

/** Reads a header line: 'unknown' for a header-shaped line (has an ID title, no numbers) in an unlisted language. */
function readHeader(line: string): Header | 'unknown' | null {
  const toks = tokens(line);
  const id = toks.find((t) => ID_TITLE.test(t.text));
  if (!id || toks.some((t) => /^\d+$/.test(t.text))) return null;
  const first = line.search(/\S/);
  for (const h of HEADERS) {
    if (!line.slice(first).toUpperCase().startsWith(h.first + ' ')) continue;
    // The title may be several words (NOMBRE USUARIO): the second column is the first token after it.
    const second = toks.find((t) => t.start >= first + h.first.length);
    return { kind: h.kind, col1: toks[0]!.col, col2: second?.col ?? Number.MAX_SAFE_INTEGER, idEnd: id.col + 2 };
  }
  return 'unknown';
}

/** IDLE TIME text → minutes: `.` → 0, `5` → 5, `1:02` → 62, `2+03:04` → 3064; none-words and anything else → null. */
export function parseQuserIdle(raw: string): number | null {
  for (const [re, f] of IDLE_FORMS) {
    const m = re.exec(raw.trim());
    if (m) return f(m);
  }
  return null;
}

/** Joins tokens back with the line's own spacing. */
function span(line: string, toks: Token[]): string | null {
  const first = toks[0];
  const last = toks[toks.length - 1];
  return first && last ? line.slice(first.start, last.end) : null;
}

function parseRow(line: string, n: number, h: Header, warnings: string[]): QuserSession | null {
  // The `>` current-session marker sits in column 0 (ref §2.2); blank it out so it is not part of a name.
  const lead = line.search(/\S/);
  const current = line[lead] === '>';
  const text = current ? line.slice(0, lead) + ' ' + line.slice(lead + 1) : line;
  const toks = tokens(text);

  // The ID is a digit token among the first three (0 names before it: qwinsta session 0 without a name; 1: a
  // disconnected quser session or a qwinsta line with one column empty; 2: both names) followed by the state.
  // Prefer candidates followed by a known state word, then the one closest to the header's right-aligned ID.
  const cands = [0, 1, 2].filter((i) => /^\d+$/.test(toks[i]?.text ?? '') && toks[i + 1] !== undefined);
  const known = cands.filter((i) => STATES[toks[i + 1]!.text.toLowerCase()] !== undefined);
  const pool = known.length > 0 ? known : cands;
  const idIdx = pool.sort((a, b) => Math.abs(toks[a]!.colEnd - h.idEnd) - Math.abs(toks[b]!.colEnd - h.idEnd))[0];
  if (idIdx === undefined) {
    warnings.push(`line ${n}: not a ${h.kind} session line: "${line.trim()}"`);
    return null;
  }

  // Names before the ID. Two or more tokens: split at the widest gap (column padding); one token: its position
  // against the header's second column decides, because either column may be the empty one (ref §2.2, §2.3).
  const names = toks.slice(0, idIdx);
  let left: Token[] = names;
  let right: Token[] = [];
  if (names.length === 1) {
    if (names[0]!.col > (h.col1 + h.col2) / 2) [left, right] = [[], names];
  } else if (names.length > 1) {
    let cut = 1;
    for (let i = 1; i < names.length; i++) {
      if (names[i]!.col - names[i - 1]!.colEnd > names[cut]!.col - names[cut - 1]!.colEnd) cut = i;
    }
    [left, right] = [names.slice(0, cut), names.slice(cut)];
  }
  const [user, sessionName] = h.kind === 'quser' ? [span(text, left), span(text, right)] : [span(text, right), span(text, left)];

  const stateRaw = toks[idIdx + 1]!.text;
  const state = STATES[stateRaw.toLowerCase()] ?? 'Unknown';
  if (state === 'Unknown') warnings.push(`line ${n}: unrecognized state "${stateRaw}"`);
  const rest = toks.slice(idIdx + 2);
  const row: QuserSession = {
    user, sessionName, id: Number(toks[idIdx]!.text), state, stateRaw,
    idleMinutes: null, idleRaw: null, logonTimeRaw: null, current, line: n,
  };

  if (h.kind === 'qwinsta') {
    // TYPE then DEVICE, both often empty (samples end at the state, ref §2.3).
    row.type = rest[0]?.text ?? null;
    row.device = span(text, rest.slice(1));
    return row;
  }
  // quser: IDLE TIME then LOGON TIME (kept verbatim, ref §2.2).
  const idle = rest[0];
  if (idle === undefined) return row;
  if (DATE_LIKE.test(idle.text) && parseQuserIdle(idle.text) === null) {
    row.logonTimeRaw = span(text, rest); // no idle column at all [INFERENCE: not seen, tolerated]
    return row;
  }
  row.idleRaw = idle.text;
  row.idleMinutes = parseQuserIdle(idle.text);
  if (row.idleMinutes === null && !IDLE_NONE.has(idle.text.toLowerCase())) {
    warnings.push(`line ${n}: unrecognized idle time "${idle.text}"`);
  }
  row.logonTimeRaw = span(text, rest.slice(1));
  return row;
}

// Session names qwinsta prints for sessions without a user: services (0), console, listeners (rdp-tcp, other WinStation
// names ending in -tcp) and RDP sessions rdp-tcp#n (ref §2.3). Used only without a header, to place a lone name.
const SESSION_LIKE = /^(services|console|[\w-]*-tcp(#\d+)?)$/i;

/**
 * A row read without a header (users paste listings without it; scripts drop it with `Select-Object -Skip 1`).
 * Only a line with a digit token among its first three followed by a *known* state word counts as a row (garbage,
 * banners and rows in unsourced languages stay reported, never guessed). quser or qwinsta from the row's shape: quser
 * rows go on with IDLE TIME and a logon date, qwinsta rows with TYPE/DEVICE or nothing [INFERENCE from ref §2.2/§2.3].
 * A lone name is quser's user; in qwinsta a session name, unless it is not session-like and the session is
 * disconnected (a user whose session lost its name, ref §2.2).
 */
function parseHeaderless(line: string, n: number, warnings: string[]): { kind: 'quser' | 'qwinsta'; row: QuserSession } | null {
  const toks = tokens(line.replace(/^(\s*)>/, '$1 '));
  const idIdx = [0, 1, 2].find((i) => /^\d+$/.test(toks[i]?.text ?? '') && STATES[toks[i + 1]?.text.toLowerCase() ?? ''] !== undefined);
  if (idIdx === undefined) return null;
  const rest = toks.slice(idIdx + 2);
  const idleLike = (t: Token | undefined) => t !== undefined && (parseQuserIdle(t.text) !== null || IDLE_NONE.has(t.text.toLowerCase()));
  const quserShape = (idleLike(rest[0]) && rest[1] !== undefined && DATE_LIKE.test(rest[1].text)) || (rest[0] !== undefined && DATE_LIKE.test(rest[0].text));
  const kind = quserShape ? 'quser' : 'qwinsta';
  // col2 far right: a lone name stays in the first column (quser USERNAME, qwinsta SESSIONNAME); the ID nearest the start.
  const row = parseRow(line, n, { kind, col1: 0, col2: Number.MAX_SAFE_INTEGER, idEnd: 0 }, warnings);
  if (!row) return null;
  if (kind === 'qwinsta' && idIdx === 1 && row.sessionName !== null && row.state === 'Disconnected' && !SESSION_LIKE.test(row.sessionName)) {
    row.user = row.sessionName;
    row.sessionName = null;
  }
  return { kind, row };
}

export function parseQuser(text: string): QuserResult {
  const result: QuserResult = { kind: 'unknown', sessions: [], noUsers: false, warnings: [] };
  const lines = String(text ?? '').replace(/^\uFEFF/, '').split(/\r?\n/);
  let header: Header | null = null;
  let sawContent = false;
  let sawForeignHeader = false;

  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.normalize('NFC').replace(/\s+$/, '');
    if (line === '') return;
    sawContent = true;
    if (NO_USERS.test(line)) {
      result.noUsers = true;
      if (result.kind === 'unknown') result.kind = 'quser';
      return;
    }
    const h = readHeader(line);
    if (h === 'unknown') {
      result.warnings.push(`line ${n}: header in an unrecognized language (no sourced titles for it): "${line.trim()}"`);
      header = null;
      sawForeignHeader = true;
      return;
    }
    if (h) {
      if (result.kind !== 'unknown' && result.kind !== h.kind) result.warnings.push(`line ${n}: ${h.kind} header after ${result.kind} output`);
      if (result.kind === 'unknown') result.kind = h.kind;
      header = h;
      return;
    }
    if (!header) {
      const headerless = parseHeaderless(line, n, result.warnings);
      if (!headerless) {
        result.warnings.push(`line ${n}: no recognized quser/qwinsta header before this line: "${line.trim()}"`);
        return;
      }
      if (result.kind === 'unknown') result.kind = headerless.kind;
      else if (result.kind !== headerless.kind) result.warnings.push(`line ${n}: a ${headerless.kind} row in ${result.kind} output`);
      result.sessions.push(headerless.row);
      return;
    }
    const row = parseRow(line, n, header, result.warnings);
    if (row) result.sessions.push(row);
  });

  if (!sawContent) result.warnings.push('empty input: no quser/qwinsta output');
  else if (result.kind === 'unknown' && !result.noUsers && !sawForeignHeader && result.sessions.length === 0) {
    result.warnings.unshift('no quser/qwinsta header found');
  }
  return result;
}
