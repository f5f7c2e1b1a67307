import { describe, it, expect } from 'vitest';
import { displayWidth, parseQuser } from '../../src/parsers/quser.js';
import type { QuserSession } from '../../src/parsers/quser.js';

// Real quser/qwinsta listings from hosts in other display languages, each line verbatim (whitespace included).
// Sources with their URLs: docs/windows-facts/locales.md "quser / qwinsta". [3P-id n] = a file of the public code
// index this project searches (its id there), as in quser.test.ts.
const text = (...lines: string[]) => lines.join('\n');
const qu = (s: Omit<QuserSession, 'type' | 'device'>): QuserSession => s;
const qw = (s: Pick<QuserSession, 'user' | 'sessionName' | 'id' | 'state' | 'stateRaw' | 'current' | 'line'>): QuserSession => ({
  idleMinutes: null, idleRaw: null, logonTimeRaw: null, type: null, device: null, ...s,
});

// Constantine-SRV/ServiceLogonMultifactor, ServiceLogonMultifactor.Tests/SearchedQuserTests.cs: quser pasted from a
// Russian Windows into a comment (the header lost its leading space there, the rows kept theirs).
const RU_HEADER_PASTED = 'ПОЛЬЗОВАТЕЛЬ          СЕАНС              ID  СТАТУС  БЕЗДЕЙСТВ. ВРЕМЯ ВХОДА';
// [3P-id 10141410954], a PowerShell homework transcript of `query user /server:...` on two Russian machines.
const RU_HEADER = ' ПОЛЬЗОВАТЕЛЬ          СЕАНС              ID  СТАТУС  БЕЗДЕЙСТВ. ВРЕМЯ ВХОДА';
// [3P-id 481557477], a C++ source comment (2012) pasting `query session` from a Japanese Windows.
const JA_QWINSTA = [
  ' セッション名      ユーザー名               ID  状態    種類        デバイス',
  ' services                                    0  Disc',
  '>console           user1                     2  Active',
  ' rdp-tcp                                 65536  Listen',
];

describe('parseQuser: Russian quser (ru-RU)', () => {
  it('reads the console session with the none-word отсутствует (ServiceLogonMultifactor comment)', () => {
    const r = parseQuser(text(RU_HEADER_PASTED, '>user1                 console             1  Активно   отсутствует 14.05.2021 15:54'));
    expect(r).toEqual({
      kind: 'quser', noUsers: false, warnings: [],
      sessions: [qu({ user: 'user1', sessionName: 'console', id: 1, state: 'Active', stateRaw: 'Активно', idleMinutes: null, idleRaw: 'отсутствует', logonTimeRaw: '14.05.2021 15:54', current: true, line: 2 })],
    });
  });

  it('reads an RDP session idle under a minute (ServiceLogonMultifactor comment)', () => {
    const r = parseQuser(text(RU_HEADER_PASTED, '>user1                 rdp-tcp#1           1  Активно          .  14.05.2021 15:54'));
    expect(r.warnings).toEqual([]);
    expect(r.sessions).toEqual([qu({ user: 'user1', sessionName: 'rdp-tcp#1', id: 1, state: 'Active', stateRaw: 'Активно', idleMinutes: 0, idleRaw: '.', logonTimeRaw: '14.05.2021 15:54', current: true, line: 2 })]);
  });

  it('reads both remote listings of the homework transcript (no `>`: /server: queries another machine)', () => {
    const a = parseQuser(text(RU_HEADER, ' admin                 console             2  Активно   отсутствует 26.03.2022 22:40'));
    const b = parseQuser(text(RU_HEADER, ' admin                 rdp-tcp#3           2  Активно         10  27.03.2022 21:18'));
    expect([a.kind, a.warnings, b.kind, b.warnings]).toEqual(['quser', [], 'quser', []]);
    expect(a.sessions).toEqual([qu({ user: 'admin', sessionName: 'console', id: 2, state: 'Active', stateRaw: 'Активно', idleMinutes: null, idleRaw: 'отсутствует', logonTimeRaw: '26.03.2022 22:40', current: false, line: 2 })]);
    expect(b.sessions).toEqual([qu({ user: 'admin', sessionName: 'rdp-tcp#3', id: 2, state: 'Active', stateRaw: 'Активно', idleMinutes: 10, idleRaw: '10', logonTimeRaw: '27.03.2022 21:18', current: false, line: 2 })]);
  });

  it('reads the row without its header (the sample the ServiceLogonMultifactor test feeds its own parser)', () => {
    const r = parseQuser('user1                 rdp-tcp#1           1  Активно          .  14.05.2021 15:54');
    expect(r).toEqual({
      kind: 'quser', noUsers: false, warnings: [],
      sessions: [qu({ user: 'user1', sessionName: 'rdp-tcp#1', id: 1, state: 'Active', stateRaw: 'Активно', idleMinutes: 0, idleRaw: '.', logonTimeRaw: '14.05.2021 15:54', current: false, line: 1 })],
    });
  });
});

describe('parseQuser: Japanese qwinsta (ja-JP)', () => {
  it('aligns in display cells: the full-width header ends its ID title where the rows end their IDs', () => {
    // Index 35 in UTF-16 code units, cell 46 on the console: why the parser measures cells.
    const header = JA_QWINSTA[0]!;
    const idEnd = header.indexOf('ID') + 2;
    expect(idEnd).toBe(35);
    expect(displayWidth(header.slice(0, idEnd))).toBe(46);
    for (const row of JA_QWINSTA.slice(1)) expect(displayWidth(row.replace(/^(.*?\s\d+)(\s.*)?$/, '$1'))).toBe(46);
    expect(displayWidth('ﾃｽﾄ')).toBe(3); // halfwidth katakana stays one cell
  });

  it('reads services, the current console and the listener; the state words are the English ones', () => {
    const r = parseQuser(text(...JA_QWINSTA));
    expect(r).toEqual({
      kind: 'qwinsta', noUsers: false, warnings: [],
      sessions: [
        qw({ user: null, sessionName: 'services', id: 0, state: 'Disconnected', stateRaw: 'Disc', current: false, line: 2 }),
        qw({ user: 'user1', sessionName: 'console', id: 2, state: 'Active', stateRaw: 'Active', current: true, line: 3 }),
        qw({ user: null, sessionName: 'rdp-tcp', id: 65536, state: 'Listening', stateRaw: 'Listen', current: false, line: 4 }),
      ],
    });
  });
});
