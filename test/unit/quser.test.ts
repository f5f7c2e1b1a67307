import { describe, it, expect } from 'vitest';
import { parseQuser, parseQuserIdle } from '../../src/parsers/quser.js';
import type { QuserSession } from '../../src/parsers/quser.js';

// Every fixture below is real quser/qwinsta output, copied with its whitespace, or output of the lab module
// (src/lab/ps/commands/80-sessions.ps1, whose layout docs/windows-facts/network-firewall-sessions-tasks.md §3 marks
// [DERIVED] from real samples) - each says which. "ref §n" = /work/shared/reference/windows-rdp.md.
// Where a sample sits in a comment or a markdown list, only that prefix (or the author's `<----` annotation) is cut,
// by `strip()`, so the lines stay verbatim in this file.
const text = (...lines: string[]) => lines.join('\n');
const strip = (prefix: string, lines: string[]) =>
  lines.map((l) => l.slice(prefix.length).replace(/\s*<----.*$/, '')).join('\n');

/** A quser row with the fields that only qwinsta has left out. */
const qu = (s: Omit<QuserSession, 'type' | 'device'>): QuserSession => s;
/** A qwinsta row: quser-only fields are null. */
const qw = (s: Pick<QuserSession, 'user' | 'sessionName' | 'id' | 'state' | 'stateRaw' | 'current' | 'line'> & { type?: string | null; device?: string | null }): QuserSession => ({
  idleMinutes: null, idleRaw: null, logonTimeRaw: null, type: null, device: null, ...s,
});

describe('parseQuser: English quser', () => {
  it('njeffrey nagios script comment (ref §2.2, [3P-id 30882289186]): none / . / d+hh:mm, blank SESSIONNAME, mixed date formats', () => {
    // Verbatim from the script's comment block; strip() removes the comment prefix `   # `.
    const r = parseQuser(strip('   # ', [
      '   #  USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME',
      '   # >janedoe               console             1  Active      none   4/2/2022 5:19 PM',
      '   #  administrator         rdp-tcp#1           2  Active          .  4/12/2022 11:26 AM',
      '   #  john.smith                                3  Disc     11+04:12  2022-03-31 5:09 PM',
    ]));
    expect(r).toEqual({
      kind: 'quser', noUsers: false, warnings: [],
      sessions: [
        qu({ user: 'janedoe', sessionName: 'console', id: 1, state: 'Active', stateRaw: 'Active', idleMinutes: null, idleRaw: 'none', logonTimeRaw: '4/2/2022 5:19 PM', current: true, line: 2 }),
        qu({ user: 'administrator', sessionName: 'rdp-tcp#1', id: 2, state: 'Active', stateRaw: 'Active', idleMinutes: 0, idleRaw: '.', logonTimeRaw: '4/12/2022 11:26 AM', current: false, line: 3 }),
        qu({ user: 'john.smith', sessionName: null, id: 3, state: 'Disconnected', stateRaw: 'Disc', idleMinutes: 11 * 1440 + 4 * 60 + 12, idleRaw: '11+04:12', logonTimeRaw: '2022-03-31 5:09 PM', current: false, line: 4 }),
      ],
    });
  });

  it('HTB notes (ref §2.2, [3P-id 22757787317]): one current RDP session', () => {
    const r = parseQuser(text(
      ' USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME',
      '>administrator         rdp-tcp#2           1  Active          .  3/25/2021 9:27 AM',
    ));
    expect(r).toEqual({
      kind: 'quser', noUsers: false, warnings: [],
      sessions: [qu({ user: 'administrator', sessionName: 'rdp-tcp#2', id: 1, state: 'Active', stateRaw: 'Active', idleMinutes: 0, idleRaw: '.', logonTimeRaw: '3/25/2021 9:27 AM', current: true, line: 2 })],
    });
  });

  it('UNT-CAS/QuserObject Four_Users fixture (ref §2.2): narrower layout, header without leading space, right-aligned session name', () => {
    // Examples/ConvertTo-QuserObject.Four_Users_Two_Disc_Three_Idle.psd1, Result lines verbatim.
    const r = parseQuser(text(
      'USERNAME         SESSIONNAME  ID  STATE   IDLE TIME  LOGON TIME',
      ' admin.xxxxxxxx                2  Disc     15+15:12  7/20/2017 1:19 PM',
      ' admin.xxxxx      rdp-tcp#54   3  Active       1:39  7/21/2017 5:35 AM',
      ' xxxxxxxx                      4  Disc      6+04:10  7/21/2017 9:25 AM',
      '>vertigoray          console   5  Active          .  8/9/2017 4:40 PM',
    ));
    expect(r.kind).toBe('quser');
    expect(r.warnings).toEqual([]);
    expect(r.sessions).toEqual([
      qu({ user: 'admin.xxxxxxxx', sessionName: null, id: 2, state: 'Disconnected', stateRaw: 'Disc', idleMinutes: 15 * 1440 + 15 * 60 + 12, idleRaw: '15+15:12', logonTimeRaw: '7/20/2017 1:19 PM', current: false, line: 2 }),
      qu({ user: 'admin.xxxxx', sessionName: 'rdp-tcp#54', id: 3, state: 'Active', stateRaw: 'Active', idleMinutes: 99, idleRaw: '1:39', logonTimeRaw: '7/21/2017 5:35 AM', current: false, line: 3 }),
      qu({ user: 'xxxxxxxx', sessionName: null, id: 4, state: 'Disconnected', stateRaw: 'Disc', idleMinutes: 6 * 1440 + 4 * 60 + 10, idleRaw: '6+04:10', logonTimeRaw: '7/21/2017 9:25 AM', current: false, line: 4 }),
      qu({ user: 'vertigoray', sessionName: 'console', id: 5, state: 'Active', stateRaw: 'Active', idleMinutes: 0, idleRaw: '.', logonTimeRaw: '8/9/2017 4:40 PM', current: true, line: 5 }),
    ]);
  });

  it('accepts CRLF line endings and a trailing newline (same HTB sample)', () => {
    const r = parseQuser(' USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME\r\n>administrator         rdp-tcp#2           1  Active          .  3/25/2021 9:27 AM\r\n');
    expect(r.warnings).toEqual([]);
    expect(r.sessions.map((s) => [s.user, s.id, s.logonTimeRaw, s.line])).toEqual([['administrator', 1, '3/25/2021 9:27 AM', 2]]);
  });
});

describe('parseQuser: localized quser', () => {
  it('es-EC (ref §2.2; UNT-CAS/QuserObject Examples/ConvertTo-QuserObject.Four_Users_Two_Disc_Three_Idle_ES.json): Activo/Desc/ninguno, `ID.` title', () => {
    const r = parseQuser(text(
      ' NOMBRE USUARIO        NOMBRE SESIÓN      ID. ESTADO  TIEMPO IN. TIEMPO SESIÓN',
      '>mabe-b3               console             1  Activo      ninguno   7/25/2018 7:46 AM',
      ' otro00                                    2  Desc            2  7/25/2018 10:51 AM',
    ));
    expect(r).toEqual({
      kind: 'quser', noUsers: false, warnings: [],
      sessions: [
        qu({ user: 'mabe-b3', sessionName: 'console', id: 1, state: 'Active', stateRaw: 'Activo', idleMinutes: null, idleRaw: 'ninguno', logonTimeRaw: '7/25/2018 7:46 AM', current: true, line: 2 }),
        qu({ user: 'otro00', sessionName: null, id: 2, state: 'Disconnected', stateRaw: 'Desc', idleMinutes: 2, idleRaw: '2', logonTimeRaw: '7/25/2018 10:51 AM', current: false, line: 3 }),
      ],
    });
  });

  it('German, Windows-For-Kids README (facts §3, code-index id 41595633631): Aktiv / Kein / dd.MM.yyyy, no marker on `query user /server:`', () => {
    const local = parseQuser(text(
      ' BENUTZERNAME          SITZUNGSNAME       ID  STATUS  LEERLAUF   ANMELDEZEIT',
      ' manfred               console             4  Aktiv       Kein   28.04.2025 12:03',
    ));
    expect(local).toEqual({
      kind: 'quser', noUsers: false, warnings: [],
      sessions: [qu({ user: 'manfred', sessionName: 'console', id: 4, state: 'Active', stateRaw: 'Aktiv', idleMinutes: null, idleRaw: 'Kein', logonTimeRaw: '28.04.2025 12:03', current: false, line: 2 })],
    });
    const remote = parseQuser(text(
      ' BENUTZERNAME          SITZUNGSNAME       ID  STATUS  LEERLAUF   ANMELDEZEIT',
      ' leo                   console             3  Aktiv       Kein   03.05.2025 18:26',
    ));
    expect(remote.sessions).toEqual([
      qu({ user: 'leo', sessionName: 'console', id: 3, state: 'Active', stateRaw: 'Aktiv', idleMinutes: null, idleRaw: 'Kein', logonTimeRaw: '03.05.2025 18:26', current: false, line: 2 }),
    ]);
  });

  it('German batch comment (facts §3, code-index id 34551338372): marker on an RDP session, 17-char user name', () => {
    // strip() removes the `rem ` comment prefix.
    const r = parseQuser(strip('rem ', [
      'rem  BENUTZERNAME          SITZUNGSNAME       ID  STATUS  LEERLAUF   ANMELDEZEIT',
      'rem >thorgil.eisenhand     rdp-tcp#10          5  Aktiv           .  07.09.2021 17:58',
    ]));
    expect(r).toEqual({
      kind: 'quser', noUsers: false, warnings: [],
      sessions: [qu({ user: 'thorgil.eisenhand', sessionName: 'rdp-tcp#10', id: 5, state: 'Active', stateRaw: 'Aktiv', idleMinutes: 0, idleRaw: '.', logonTimeRaw: '07.09.2021 17:58', current: true, line: 2 })],
    });
  });

  it('French PsExec transcript (facts §3, code-index id 53853671012): no marker under PsExec, banner lines reported as warnings', () => {
    // The whole quser part of the transcript, verbatim; `<valeur>` / `<ipadress>` are the author's placeholders.
    const r = parseQuser(text(
      'PsExec v2.2 - Execute processes remotely',
      'Copyright (C) 2001-2016 Mark Russinovich',
      'Sysinternals - www.sysinternals.com',
      '',
      '',
      ' UTILISATEUR           SESSION            ID  ÉTAT    TEMPS INACT TEMPS SESSION',
      ' <valeur>          console             1  Actif       aucun   23/10/2025 08:42',
      'quser exited on <ipadress> with error code 0.',
    ));
    expect(r.kind).toBe('quser');
    expect(r.noUsers).toBe(false);
    expect(r.sessions).toEqual([
      qu({ user: '<valeur>', sessionName: 'console', id: 1, state: 'Active', stateRaw: 'Actif', idleMinutes: null, idleRaw: 'aucun', logonTimeRaw: '23/10/2025 08:42', current: false, line: 7 }),
    ]);
    expect(r.warnings).toEqual([
      'line 1: no recognized quser/qwinsta header before this line: "PsExec v2.2 - Execute processes remotely"',
      'line 2: no recognized quser/qwinsta header before this line: "Copyright (C) 2001-2016 Mark Russinovich"',
      'line 3: no recognized quser/qwinsta header before this line: "Sysinternals - www.sysinternals.com"',
      'line 8: not a quser session line: "quser exited on <ipadress> with error code 0."',
    ]);
  });

  it('French blog (facts §3, code-index id 27198537975): the header lost its É (`TAT`) and still reads', () => {
    const r = parseQuser(text(
      ' UTILISATEUR           SESSION            ID  TAT    TEMPS INACT TEMPS SESSION',
      '>olivier               console             1  Actif       aucun   12/02/2023 07:11',
    ));
    expect(r).toEqual({
      kind: 'quser', noUsers: false, warnings: [],
      sessions: [qu({ user: 'olivier', sessionName: 'console', id: 1, state: 'Active', stateRaw: 'Actif', idleMinutes: null, idleRaw: 'aucun', logonTimeRaw: '12/02/2023 07:11', current: true, line: 2 })],
    });
  });

  it('French capture quoted in a Pester test (facts §3, code-index id 68661090081): numeric idle', () => {
    const r = parseQuser(text(
      ' UTILISATEUR           SESSION            ID  ÉTAT    TEMPS INACT TEMPS SESSION',
      '>jsboi                 rdp-tcp#1           2  Actif           2  20/09/2026 12:27',
    ));
    expect(r.warnings).toEqual([]);
    expect(r.sessions).toEqual([
      qu({ user: 'jsboi', sessionName: 'rdp-tcp#1', id: 2, state: 'Active', stateRaw: 'Actif', idleMinutes: 2, idleRaw: '2', logonTimeRaw: '20/09/2026 12:27', current: true, line: 2 }),
    ]);
  });
});

describe('parseQuser: qwinsta', () => {
  it('njeffrey nagios script comment (ref §2.3, [3P-id 30538770384]): services 0, blank columns, truncated listener name, IDs 65536/65537', () => {
    // Verbatim from the comment block; strip() removes `   #    ` and the author's `<---- ...` annotations.
    const r = parseQuser(strip('   #    ', [
      '   #    SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE',
      '   #     services                                    0  Disc',
      '   #     console                                     1  Conn',
      '   #                       MYDOMAIN\\Administrator    7  Disc           <---- notice that STATE is "Disc" and SESSIONNAME is empty',
      '   #    >rdp-tcp#56        janedoe                   8  Active         <---- this example shows a local user with an active RDP session',
      '   #                       johnsmith                 9  Disc           <---- this example shows another local user with a disconnected RDP session',
      '   #     31c5ce94259d4...                        65536  Listen',
      '   #     rdp-tcp                                 65537  Listen',
    ]));
    expect(r).toEqual({
      kind: 'qwinsta', noUsers: false, warnings: [],
      sessions: [
        qw({ user: null, sessionName: 'services', id: 0, state: 'Disconnected', stateRaw: 'Disc', current: false, line: 2 }),
        qw({ user: null, sessionName: 'console', id: 1, state: 'Connected', stateRaw: 'Conn', current: false, line: 3 }),
        qw({ user: 'MYDOMAIN\\Administrator', sessionName: null, id: 7, state: 'Disconnected', stateRaw: 'Disc', current: false, line: 4 }),
        qw({ user: 'janedoe', sessionName: 'rdp-tcp#56', id: 8, state: 'Active', stateRaw: 'Active', current: true, line: 5 }),
        qw({ user: 'johnsmith', sessionName: null, id: 9, state: 'Disconnected', stateRaw: 'Disc', current: false, line: 6 }),
        qw({ user: null, sessionName: '31c5ce94259d4...', id: 65536, state: 'Listening', stateRaw: 'Listen', current: false, line: 7 }),
        qw({ user: null, sessionName: 'rdp-tcp', id: 65537, state: 'Listening', stateRaw: 'Listen', current: false, line: 8 }),
      ],
    });
  });

  it('`qwinsta /server:` notes with TYPE (code-index id 4602413941): nameless session 0, wdcon/rdpwd, no marker', () => {
    // Verbatim; the user names look anonymized by the author (one ID is a column off) - still real layout.
    const r = parseQuser(text(
      ' SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE',
      '                                             0  Disc    rdpwd',
      ' rdp-tcp                                 65536  Listen  rdpwd',
      ' console                                     5  Conn    wdcon',
      '                   user1                    1  Disc    rdpwd',
      ' rdp-tcp#38        user2                   2  Active  rdpwd',
    ));
    expect(r).toEqual({
      kind: 'qwinsta', noUsers: false, warnings: [],
      sessions: [
        qw({ user: null, sessionName: null, id: 0, state: 'Disconnected', stateRaw: 'Disc', type: 'rdpwd', current: false, line: 2 }),
        qw({ user: null, sessionName: 'rdp-tcp', id: 65536, state: 'Listening', stateRaw: 'Listen', type: 'rdpwd', current: false, line: 3 }),
        qw({ user: null, sessionName: 'console', id: 5, state: 'Connected', stateRaw: 'Conn', type: 'wdcon', current: false, line: 4 }),
        qw({ user: 'user1', sessionName: null, id: 1, state: 'Disconnected', stateRaw: 'Disc', type: 'rdpwd', current: false, line: 5 }),
        qw({ user: 'user2', sessionName: 'rdp-tcp#38', id: 2, state: 'Active', stateRaw: 'Active', type: 'rdpwd', current: false, line: 6 }),
      ],
    });
  });

  it('blog "qwinsta, rwinsta, and reg" (code-index id 15414840942): `/server:` output, console in session 0', () => {
    const r = parseQuser(text(
      ' SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE',
      ' console                                     0  Conn    wdcon',
      ' rdp-tcp                                 65536  Listen  rdpwd',
      ' rdp-tcp#10        user1234                  2  Active  rdpwd',
    ));
    expect(r.warnings).toEqual([]);
    expect(r.sessions.map((s) => [s.sessionName, s.user, s.id, s.state, s.type, s.device, s.current])).toEqual([
      ['console', null, 0, 'Connected', 'wdcon', null, false],
      ['rdp-tcp', null, 65536, 'Listening', 'rdpwd', null, false],
      ['rdp-tcp#10', 'user1234', 2, 'Active', 'rdpwd', null, false],
    ]);
  });

  it('German `query session /server:` (facts §3, code-index id 41595633631): Getr./Aktiv/Abhör., no marker', () => {
    const r = parseQuser(text(
      ' SITZUNGSNAME      BENUTZERNAME             ID  STATUS  TYP         GERÄT',
      ' services                                    0  Getr.',
      ' console           Leo                       3  Aktiv',
      ' rdp-tcp                                 65536  Abhör.',
    ));
    expect(r).toEqual({
      kind: 'qwinsta', noUsers: false, warnings: [],
      sessions: [
        qw({ user: null, sessionName: 'services', id: 0, state: 'Disconnected', stateRaw: 'Getr.', current: false, line: 2 }),
        qw({ user: 'Leo', sessionName: 'console', id: 3, state: 'Active', stateRaw: 'Aktiv', current: false, line: 3 }),
        qw({ user: null, sessionName: 'rdp-tcp', id: 65536, state: 'Listening', stateRaw: 'Abhör.', current: false, line: 4 }),
      ],
    });
  });
});

describe('parseQuser: marker under remoting (lab module output)', () => {
  // Produced by the lab (Import-Module src/lab/ps/RdpfixLab.psm1; Enter-LabHost on an en-US host with sessions
  // services/console/alice(rdp-tcp#0)/bob(Disc)/carol(Disc)/rdp-tcp; caller = WinRM, i.e. no caller session).
  // Layout [DERIVED] from the real samples (facts §3); the marker rules are facts §3 "Markers".
  it('qwinsta marks `services` (session 0) when the caller is non-interactive', () => {
    const r = parseQuser(text(
      ' SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE',
      '>services                                    0  Disc',
      ' console                                     1  Conn',
      ' rdp-tcp#0         alice                     2  Active  rdpwd',
      '                   bob                       3  Disc',
      '                   carol                     4  Disc',
      ' rdp-tcp                                 65536  Listen',
    ));
    expect(r.warnings).toEqual([]);
    expect(r.sessions.filter((s) => s.current)).toEqual([
      qw({ user: null, sessionName: 'services', id: 0, state: 'Disconnected', stateRaw: 'Disc', current: true, line: 2 }),
    ]);
    expect(r.sessions.map((s) => [s.id, s.user, s.sessionName, s.type])).toEqual([
      [0, null, 'services', null], [1, null, 'console', null], [2, 'alice', 'rdp-tcp#0', 'rdpwd'],
      [3, 'bob', null, null], [4, 'carol', null, null], [65536, null, 'rdp-tcp', null],
    ]);
  });

  it('quser marks no line when the caller is non-interactive; h:mm and d+hh:mm idle', () => {
    const r = parseQuser(text(
      ' USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME',
      ' alice                 rdp-tcp#0           2  Active          .  11/25/2026 8:05 AM',
      ' bob                                       3  Disc      3+04:13  11/16/2026 12:00 PM',
      ' carol                                     4  Disc         1:02  11/24/2026 11:00 AM',
    ));
    expect(r).toEqual({
      kind: 'quser', noUsers: false, warnings: [],
      sessions: [
        qu({ user: 'alice', sessionName: 'rdp-tcp#0', id: 2, state: 'Active', stateRaw: 'Active', idleMinutes: 0, idleRaw: '.', logonTimeRaw: '11/25/2026 8:05 AM', current: false, line: 2 }),
        qu({ user: 'bob', sessionName: null, id: 3, state: 'Disconnected', stateRaw: 'Disc', idleMinutes: 3 * 1440 + 4 * 60 + 13, idleRaw: '3+04:13', logonTimeRaw: '11/16/2026 12:00 PM', current: false, line: 3 }),
        qu({ user: 'carol', sessionName: null, id: 4, state: 'Disconnected', stateRaw: 'Disc', idleMinutes: 62, idleRaw: '1:02', logonTimeRaw: '11/24/2026 11:00 AM', current: false, line: 4 }),
      ],
    });
  });
});

describe('parseQuser: unsourced words and headers stay visible, never guessed', () => {
  it('a state word without a source (lab de-DE `Verb.`, [UNSOURCED] in facts §3) → Unknown + warning, row kept', () => {
    // Lab output (same lab host as above, locale de-DE): the header and Getr./Aktiv are sourced, `Verb.` is not.
    const r = parseQuser(text(
      ' SITZUNGSNAME      BENUTZERNAME             ID  STATUS  TYP         GERÄT',
      '>services                                    0  Getr.',
      ' console                                     1  Verb.',
    ));
    expect(r.kind).toBe('qwinsta');
    expect(r.sessions[1]).toEqual(qw({ user: null, sessionName: 'console', id: 1, state: 'Unknown', stateRaw: 'Verb.', current: false, line: 3 }));
    expect(r.warnings).toEqual(['line 3: unrecognized state "Verb."']);
  });

  it('a header without a source (lab fr-FR qwinsta titles are [UNSOURCED]) → kind unknown, every line reported', () => {
    const r = parseQuser(text(
      ' SESSION           UTILISATEUR              ID  ÉTAT    TYPE        PÉRIPHÉRIQUE',
      '>services                                    0  Déco',
    ));
    expect(r).toEqual({
      kind: 'unknown', sessions: [], noUsers: false,
      warnings: [
        'line 1: header in an unrecognized language (no sourced titles for it): "SESSION           UTILISATEUR              ID  ÉTAT    TYPE        PÉRIPHÉRIQUE"',
        'line 2: no recognized quser/qwinsta header before this line: ">services                                    0  Déco"',
      ],
    });
  });
});

describe('parseQuser: no users, empty and garbage input', () => {
  it('`No User exists for *` (ref §2.2, stderr with exit 1) → zero sessions, noUsers', () => {
    expect(parseQuser('No User exists for *')).toEqual({ kind: 'quser', sessions: [], noUsers: true, warnings: [] });
    expect(parseQuser('No User exists for *\r\n')).toEqual({ kind: 'quser', sessions: [], noUsers: true, warnings: [] });
  });

  it('empty or blank input → a clear empty result', () => {
    const empty = { kind: 'unknown', sessions: [], noUsers: false, warnings: ['empty input: no quser/qwinsta output'] };
    expect(parseQuser('')).toEqual(empty);
    expect(parseQuser(' \r\n\n\t\n')).toEqual(empty);
    expect(parseQuser(undefined as unknown as string)).toEqual(empty);
  });

  it('garbage → no sessions, each line reported with its number, never a throw', () => {
    expect(parseQuser('hello world\n\nError 42: something 7 else')).toEqual({
      kind: 'unknown', sessions: [], noUsers: false,
      warnings: [
        'no quser/qwinsta header found',
        'line 1: no recognized quser/qwinsta header before this line: "hello world"',
        'line 3: no recognized quser/qwinsta header before this line: "Error 42: something 7 else"',
      ],
    });
  });

  it('unparseable rows under a real header are reported, good rows still parse (HTB header + mangled rows)', () => {
    const r = parseQuser(text(
      ' USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME',
      '>administrator         rdp-tcp#2           1  Active          .  3/25/2021 9:27 AM',
      ' administrator         rdp-tcp#2',
      '#####',
      ' administrator         rdp-tcp#2           1  Active      soon   3/25/2021 9:27 AM',
    ));
    expect(r.sessions.map((s) => [s.line, s.id, s.idleMinutes, s.idleRaw, s.logonTimeRaw])).toEqual([
      [2, 1, 0, '.', '3/25/2021 9:27 AM'],
      [5, 1, null, 'soon', '3/25/2021 9:27 AM'],
    ]);
    expect(r.warnings).toEqual([
      'line 3: not a quser session line: "administrator         rdp-tcp#2"',
      'line 4: not a quser session line: "#####"',
      'line 5: unrecognized idle time "soon"',
    ]);
  });
});

describe('parseQuserIdle: IDLE TIME forms (ref §2.2)', () => {
  it.each([
    ['.', 0], // under a minute
    ['none', null], ['ninguno', null], ['Kein', null], ['aucun', null], // no idle time recorded
    ['2', 2], ['5', 5], ['19', 19],
    ['1:02', 62], ['1:39', 99],
    ['2+03:04', 2 * 1440 + 3 * 60 + 4], ['11+04:12', 16092], ['15+15:12', 22512],
    ['', null], ['1:2', null], ['abc', null], ['-5', null],
  ] as const)('%j → %j', (raw, minutes) => {
    expect(parseQuserIdle(raw)).toBe(minutes);
  });
});
