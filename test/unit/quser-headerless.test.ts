import { describe, it, expect } from 'vitest';
import { parseQuser } from '../../src/parsers/quser.js';

// The real samples of test/unit/quser.test.ts (sources there and in docs/windows-facts/network-firewall-sessions-tasks.md
// §3), read once with their header and once without it: users paste listings without the header, and scripts drop it
// (`quser | Select-Object -Skip 1`). Without the header the parser must read the same sessions.
const SAMPLES: Record<string, string[]> = {
  'en quser, njeffrey (ref §2.2)': [
    ' USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME',
    '>janedoe               console             1  Active      none   4/2/2022 5:19 PM',
    ' administrator         rdp-tcp#1           2  Active          .  4/12/2022 11:26 AM',
    ' john.smith                                3  Disc     11+04:12  2022-03-31 5:09 PM',
  ],
  'en quser, UNT-CAS/QuserObject Four_Users (ref §2.2)': [
    'USERNAME         SESSIONNAME  ID  STATE   IDLE TIME  LOGON TIME',
    ' admin.xxxxxxxx                2  Disc     15+15:12  7/20/2017 1:19 PM',
    ' admin.xxxxx      rdp-tcp#54   3  Active       1:39  7/21/2017 5:35 AM',
    ' xxxxxxxx                      4  Disc      6+04:10  7/21/2017 9:25 AM',
    '>vertigoray          console   5  Active          .  8/9/2017 4:40 PM',
  ],
  'es-EC quser (ref §2.2)': [
    ' NOMBRE USUARIO        NOMBRE SESIÓN      ID. ESTADO  TIEMPO IN. TIEMPO SESIÓN',
    '>mabe-b3               console             1  Activo      ninguno   7/25/2018 7:46 AM',
    ' otro00                                    2  Desc            2  7/25/2018 10:51 AM',
  ],
  'de quser, Windows-For-Kids README (facts §3)': [
    ' BENUTZERNAME          SITZUNGSNAME       ID  STATUS  LEERLAUF   ANMELDEZEIT',
    ' manfred               console             4  Aktiv       Kein   28.04.2025 12:03',
  ],
  'fr quser, Pester capture (facts §3)': [
    ' UTILISATEUR           SESSION            ID  ÉTAT    TEMPS INACT TEMPS SESSION',
    '>jsboi                 rdp-tcp#1           2  Actif           2  20/09/2026 12:27',
  ],
  // Verbatim from the script's comment block, with its comment prefix and the author's `<----` annotations cut (as quser.test.ts does).
  'en qwinsta, njeffrey (ref §2.3)': [
    '   #    SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE',
    '   #     services                                    0  Disc',
    '   #     console                                     1  Conn',
    '   #                       MYDOMAIN\\Administrator    7  Disc           <---- notice that STATE is "Disc" and SESSIONNAME is empty',
    '   #    >rdp-tcp#56        janedoe                   8  Active         <---- this example shows a local user with an active RDP session',
    '   #                       johnsmith                 9  Disc           <---- this example shows another local user with a disconnected RDP session',
    '   #     31c5ce94259d4...                        65536  Listen',
    '   #     rdp-tcp                                 65537  Listen',
  ].map((l) => l.slice('   #    '.length).replace(/\s*<----.*$/, '')),
  'en qwinsta /server: with TYPE (code-index id 4602413941)': [
    ' SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE',
    '                                             0  Disc    rdpwd',
    ' rdp-tcp                                 65536  Listen  rdpwd',
    ' console                                     5  Conn    wdcon',
    '                   user1                    1  Disc    rdpwd',
    ' rdp-tcp#38        user2                   2  Active  rdpwd',
  ],
  'de qwinsta (facts §3)': [
    ' SITZUNGSNAME      BENUTZERNAME             ID  STATUS  TYP         GERÄT',
    ' services                                    0  Getr.',
    ' console           Leo                       3  Aktiv',
    ' rdp-tcp                                 65536  Abhör.',
  ],
};

describe('parseQuser without a header line', () => {
  for (const [name, lines] of Object.entries(SAMPLES)) {
    it(`reads the same sessions as with the header: ${name}`, () => {
      const withHeader = parseQuser(lines.join('\n'));
      expect(withHeader.warnings).toEqual([]);
      expect(withHeader.sessions.length).toBe(lines.length - 1);
      const without = parseQuser(lines.slice(1).join('\r\n'));
      expect(without).toEqual({ ...withHeader, sessions: withHeader.sessions.map((s) => ({ ...s, line: s.line - 1 })) });
    });
  }

  it('still reports banners, garbage and rows whose state word has no source, never guessing', () => {
    const r = parseQuser([
      'PsExec v2.2 - Execute processes remotely',
      ' alice                 rdp-tcp#3           4  Verb.           .  1/2/2026 9:00 AM', // an [UNSOURCED] state word
      'Error 42: something 7 else',
      ' bob                   rdp-tcp#4           5  Active          3  1/2/2026 9:10 AM',
    ].join('\n'));
    expect(r.kind).toBe('quser');
    expect(r.sessions.map((s) => [s.line, s.user, s.sessionName, s.id, s.state, s.idleMinutes])).toEqual([[4, 'bob', 'rdp-tcp#4', 5, 'Active', 3]]);
    expect(r.warnings).toEqual([
      'line 1: no recognized quser/qwinsta header before this line: "PsExec v2.2 - Execute processes remotely"',
      'line 2: no recognized quser/qwinsta header before this line: "alice                 rdp-tcp#3           4  Verb.           .  1/2/2026 9:00 AM"',
      'line 3: no recognized quser/qwinsta header before this line: "Error 42: something 7 else"',
    ]);
  });

  it('a qwinsta row among quser rows is read and reported', () => {
    const r = parseQuser([' bob   rdp-tcp#4   5  Active   3  1/2/2026 9:10 AM', ' rdp-tcp   65536  Listen'].join('\n'));
    expect(r.kind).toBe('quser');
    expect(r.sessions.map((s) => [s.id, s.sessionName, s.state])).toEqual([[5, 'rdp-tcp#4', 'Active'], [65536, 'rdp-tcp', 'Listening']]);
    expect(r.warnings).toEqual(['line 2: a qwinsta row in quser output']);
  });
});
