import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { makeLabHost, runLab } from '../helpers/lab.js';
import type { LabSession, LabHostState } from '../../src/lab/state.js';

// Golden samples: docs/windows-facts/network-firewall-sessions-tasks.md (sources cited there) and the shared
// reference section 2.2/2.3. Lines are compared byte-for-byte wherever the sample allows it.

const sess = (p: Partial<LabSession> & Pick<LabSession, 'Id'>): LabSession => ({
  SessionName: '', UserName: '', State: 'Active', Type: '', Device: '', IdleMinutes: null, LogonTime: null, ...p,
});

const svc = sess({ Id: 0, SessionName: 'services', State: 'Disc' });
const conn = sess({ Id: 1, SessionName: 'console', State: 'Conn' });

/** Runs native tool command lines (each with its caller session) in ONE lab run; per step: stdout lines,
 *  stderr records and the exit code. One pwsh start per test keeps the suite fast. */
const RUN = `param($stepsJson)
$ErrorActionPreference = 'Continue'
# Assigned first: Windows PowerShell 5.1's ConvertFrom-Json (as the lab's) outputs a JSON array as ONE object.
$steps = $stepsJson | ConvertFrom-Json
$results = foreach ($step in $steps) {
  Set-LabCallerSession $step.caller
  $out = @(Invoke-Expression ($step.cmd + " 2>&1"))   # the redirection must be inside: iex drops inner errors
  [pscustomobject]@{
    lines = @($out | Where-Object { $_ -is [string] })
    errs = @($out | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object { [pscustomobject]@{ m = $_.ToString(); fqid = $_.FullyQualifiedErrorId; cat = $_.CategoryInfo.Category.ToString(); ex = $_.Exception.GetType().FullName } })
    code = $LASTEXITCODE
  }
}
ConvertTo-Json -InputObject @($results) -Depth 5 -Compress`;

type NativeResult = { lines: string[]; errs: { m: string; fqid: string; cat: string; ex: string }[]; code: number };

async function nativeSteps(host: { statePath: string }, steps: [string, number | null][]): Promise<NativeResult[]> {
  const r = await runLab(host.statePath, RUN, [JSON.stringify(steps.map(([cmd, caller]) => ({ cmd, caller })))]);
  expect(r.error).toBeNull();
  return JSON.parse(r.output[0] as string) as NativeResult[];
}

async function native(host: { statePath: string }, cmd: string, caller: number | null = null): Promise<NativeResult> {
  return (await nativeSteps(host, [[cmd, caller]]))[0];
}

function readAudit(statePath: string) {
  return readFileSync(statePath.replace(/\.json$/, '.audit.jsonl'), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as { command: string; detail: { effect?: string } });
}

function withSessions(sessions: LabSession[], locale: LabHostState['locale'] = 'en-US') {
  return makeLabHost((s) => { s.sessions = sessions; s.locale = locale; });
}

describe('lab quser (en-US golden samples)', () => {
  it('reproduces the njeffrey nagios sample (reference 2.2)', async () => {
    const host = withSessions([
      svc,
      sess({ Id: 1, SessionName: 'console', UserName: 'janedoe', State: 'Active', IdleMinutes: null, LogonTime: '2022-04-02T17:19:00Z' }),
      sess({ Id: 2, SessionName: 'rdp-tcp#1', UserName: 'administrator', State: 'Active', IdleMinutes: 0, LogonTime: '2022-04-12T11:26:00Z' }),
      sess({ Id: 3, SessionName: '', UserName: 'john.smith', State: 'Disc', IdleMinutes: 11 * 1440 + 4 * 60 + 12, LogonTime: '2022-03-31T17:09:00Z' }),
      sess({ Id: 65536, SessionName: 'rdp-tcp', State: 'Listen' }),
    ]);
    const r = await native(host, 'quser', 1);
    expect(r.code).toBe(0);
    expect(r.lines[0]).toBe(' USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME');
    expect(r.lines[1]).toBe('>janedoe               console             1  Active      none   4/2/2022 5:19 PM');
    expect(r.lines[2]).toBe(' administrator         rdp-tcp#1           2  Active          .  4/12/2022 11:26 AM');
    // The sample's third logon time is in another date format; everything before it must match.
    expect(r.lines[3].slice(0, 65)).toBe(' john.smith                                3  Disc     11+04:12  ');
    expect(r.lines[3].slice(65)).toBe('3/31/2022 5:09 PM');
    expect(r.lines).toHaveLength(4);
  });

  it('reproduces the HTB sample and the idle forms m and h:mm', async () => {
    const host = withSessions([
      svc,
      sess({ Id: 1, SessionName: 'rdp-tcp#2', UserName: 'administrator', IdleMinutes: 0.4, LogonTime: '2021-03-25T09:27:00Z' }),
      sess({ Id: 4, SessionName: 'rdp-tcp#3', UserName: 'bob', IdleMinutes: 19, LogonTime: '2021-03-25T21:05:00Z' }),
      sess({ Id: 5, SessionName: 'rdp-tcp#4', UserName: 'carol', IdleMinutes: 99, LogonTime: '2021-03-25T12:00:00Z' }),
    ]);
    const r = await native(host, 'query user', 1);
    expect(r.lines[1]).toBe('>administrator         rdp-tcp#2           1  Active          .  3/25/2021 9:27 AM');
    expect(r.lines[2]).toBe(' bob                   rdp-tcp#3           4  Active         19  3/25/2021 9:05 PM');
    expect(r.lines[3]).toBe(' carol                 rdp-tcp#4           5  Active       1:39  3/25/2021 12:00 PM');
  });

  it('marks no line when the caller is a remoting session (session 0) and filters by user, name or id', async () => {
    const host = makeLabHost();
    const [all, byUser, byId, none] = await nativeSteps(host, [['quser', null], ['quser alice', null], ['quser 2', null], ['quser nobody', null]]);
    expect(all.lines).toHaveLength(2);
    expect(all.lines.every((l) => !l.startsWith('>'))).toBe(true);
    expect(byUser.lines[1]).toMatch(/^ alice {17}rdp-tcp#0 {11}2  Active/);
    expect(byId.lines).toHaveLength(2);
    expect(none.code).toBe(1);
    expect(none.errs[0].m).toBe('No User exists for nobody');
  });

  it('writes "No User exists for *" to stderr with exit code 1, and throws under Stop', async () => {
    const host = withSessions([svc, conn, sess({ Id: 65536, SessionName: 'rdp-tcp', State: 'Listen' })]);
    const r = await native(host, 'quser');
    expect(r).toEqual({ lines: [], errs: [{ m: 'No User exists for *', fqid: 'NativeCommandError', cat: 'NotSpecified', ex: 'System.Management.Automation.RemoteException' }], code: 1 });
    const stop = await runLab(host.statePath, `$ErrorActionPreference = 'Stop'; quser`);
    expect(stop.error?.fqid).toBe('NativeCommandError');
    expect(stop.error?.message).toBe('No User exists for *');
  });
});

describe('lab quser (localized samples)', () => {
  it('es-ES: headers, states and none word of the reference es sample', async () => {
    const host = withSessions([
      svc,
      sess({ Id: 1, SessionName: 'console', UserName: 'mabe-b3', IdleMinutes: null, LogonTime: '2018-07-25T07:46:00Z' }),
      sess({ Id: 2, UserName: 'otro00', State: 'Disc', IdleMinutes: 2, LogonTime: '2018-07-25T10:51:00Z' }),
    ], 'es-ES');
    const r = await native(host, 'quser', 1);
    expect(r.lines[0]).toBe(' NOMBRE USUARIO        NOMBRE SESIÓN      ID. ESTADO  TIEMPO IN. TIEMPO SESIÓN');
    // The sample came from es-EC with US dates; es-ES prints dd/MM/yyyy H:mm.
    expect(r.lines[1]).toBe('>mabe-b3               console             1  Activo      ninguno   25/07/2018 7:46');
    expect(r.lines[2]).toBe(' otro00                                    2  Desc            2  25/07/2018 10:51');
  });

  it('de-DE: byte-for-byte German samples (remote query without marker, interactive with marker)', async () => {
    const host = withSessions([
      svc,
      sess({ Id: 4, SessionName: 'console', UserName: 'manfred', IdleMinutes: null, LogonTime: '2025-04-28T12:03:00Z' }),
      sess({ Id: 5, SessionName: 'rdp-tcp#10', UserName: 'thorgil.eisenhand', IdleMinutes: 0, LogonTime: '2021-09-07T17:58:00Z' }),
    ], 'de-DE');
    const [remote, local] = await nativeSteps(host, [['query user /server:acer-w11-leo', 5], ['quser', 5]]);
    expect(remote.lines[0]).toBe(' BENUTZERNAME          SITZUNGSNAME       ID  STATUS  LEERLAUF   ANMELDEZEIT');
    expect(remote.lines[1]).toBe(' manfred               console             4  Aktiv       Kein   28.04.2025 12:03');
    expect(local.lines[2]).toBe('>thorgil.eisenhand     rdp-tcp#10          5  Aktiv           .  07.09.2021 17:58');
  });

  it('fr-FR: byte-for-byte French samples', async () => {
    const host = withSessions([
      svc,
      sess({ Id: 1, SessionName: 'console', UserName: 'olivier', IdleMinutes: null, LogonTime: '2023-02-12T07:11:00Z' }),
      sess({ Id: 2, SessionName: 'rdp-tcp#1', UserName: 'jsboi', IdleMinutes: 2, LogonTime: '2026-09-20T12:27:00Z' }),
    ], 'fr-FR');
    const [r1, r2] = await nativeSteps(host, [['quser', 1], ['quser', 2]]);
    expect(r1.lines[0]).toBe(' UTILISATEUR           SESSION            ID  ÉTAT    TEMPS INACT TEMPS SESSION');
    expect(r1.lines[1]).toBe('>olivier               console             1  Actif       aucun   12/02/2023 07:11');
    expect(r2.lines[2]).toBe('>jsboi                 rdp-tcp#1           2  Actif           2  20/09/2026 12:27');
  });
});

describe('lab qwinsta', () => {
  it('reproduces the njeffrey qwinsta sample (interactive caller in session 8)', async () => {
    const host = withSessions([
      svc, conn,
      sess({ Id: 7, UserName: 'MYDOMAIN\\Administrator', State: 'Disc', IdleMinutes: 50, LogonTime: '2022-04-01T08:00:00Z' }),
      sess({ Id: 8, SessionName: 'rdp-tcp#56', UserName: 'janedoe', State: 'Active', IdleMinutes: 0, LogonTime: '2022-04-02T08:00:00Z' }),
      sess({ Id: 9, UserName: 'johnsmith', State: 'Disc', IdleMinutes: 5, LogonTime: '2022-04-02T09:00:00Z' }),
      sess({ Id: 65536, SessionName: '31c5ce94259d4a0b9f1e', State: 'Listen' }),
      sess({ Id: 65537, SessionName: 'rdp-tcp', State: 'Listen' }),
    ]);
    const r = await native(host, 'qwinsta', 8);
    expect(r.code).toBe(0);
    // The sample's header lost its leading space when pasted into a comment; the German sample keeps it.
    expect(r.lines).toEqual([
      ' SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE',
      ' services                                    0  Disc',
      ' console                                     1  Conn',
      '                   MYDOMAIN\\Administrator    7  Disc',
      '>rdp-tcp#56        janedoe                   8  Active',
      '                   johnsmith                 9  Disc',
      ' 31c5ce94259d4...                        65536  Listen',
      ' rdp-tcp                                 65537  Listen',
    ]);
  });

  it('puts > on services for a remoting caller; German remote sample byte-for-byte', async () => {
    const de = withSessions([
      svc,
      sess({ Id: 3, SessionName: 'console', UserName: 'Leo', IdleMinutes: null, LogonTime: '2025-05-03T18:26:00Z' }),
      sess({ Id: 65536, SessionName: 'rdp-tcp', State: 'Listen' }),
    ], 'de-DE');
    const [remote, local] = await nativeSteps(de, [['query session /server:acer-w11-leo', null], ['qwinsta', null]]);
    expect(remote.lines).toEqual([
      ' SITZUNGSNAME      BENUTZERNAME             ID  STATUS  TYP         GERÄT',
      ' services                                    0  Getr.',
      ' console           Leo                       3  Aktiv',
      ' rdp-tcp                                 65536  Abhör.',
    ]);
    expect(local.lines[1]).toBe('>services                                    0  Getr.');
  });
});

describe('lab logoff / rwinsta', () => {
  const seeded = () => makeLabHost((s) => {
    s.sessions.push(
      sess({ Id: 3, UserName: 'bob', State: 'Disc', IdleMinutes: 300, LogonTime: '2026-11-24T10:00:00Z' }),
      sess({ Id: 4, SessionName: 'rdp-tcp#1', UserName: 'carol', IdleMinutes: 1, LogonTime: '2026-11-25T10:00:00Z', hung: true }),
    );
  });

  it('logs off a disconnected session (deleted from state, audited) and refuses 0, console, listeners and unknown IDs', async () => {
    const host = seeded();
    host.state.sessions.find((x) => x.Id === 3)!.logoffLingerSeconds = 0; // gone at once: this test is about the refusals
    writeFileSync(host.statePath, JSON.stringify(host.state));
    const [ok, ...refused] = await nativeSteps(host, [['logoff 3 /v', null], ['logoff 0', null], ['logoff 1', null], ['logoff 65536', null], ['logoff 77', null]]);
    expect(ok.code).toBe(0);
    expect(ok.errs).toEqual([]);
    expect(host.read().sessions.map((s) => s.Id)).not.toContain(3);
    ([[0, 'services'], [1, 'console'], [65536, 'rdp-tcp']] as const).forEach(([id, name], i) => {
      const r = refused[i];
      expect(r.code).toBe(1);
      expect(r.errs.map((e) => e.m)).toEqual([`Could not logoff session ID ${id} from session ${name}, Error code 5`, 'Error [5]: Access is denied.']);
      expect(r.errs[0].fqid).toBe('NativeCommandError');
    });
    expect(refused[3].code).toBe(1);
    expect(host.read().sessions.map((s) => s.Id)).toEqual([0, 1, 2, 65536, 4]);
  });

  it('a logged-off session stays listed until its logoff finishes on the host clock (3 s by default)', async () => {
    const host = seeded();
    const [off, during, , after] = await nativeSteps(host, [['logoff 3', null], ['quser 3', null], ['Move-LabClock -Milliseconds 3000', null], ['quser 3', null]]);
    expect(off.code).toBe(0);
    expect(during.lines[1]).toMatch(/^ bob +3  Disc/);
    expect(after.code).toBe(1);
    expect(after.errs.map((e) => e.m)).toEqual(['No User exists for 3']);
    expect(host.read().sessions.map((x) => x.Id)).not.toContain(3);
    const cmds = readAudit(host.statePath);
    expect(cmds.map((c) => [c.command, c.detail.effect])).toEqual([['logoff', 'logging off']]);
  });

  it('logoff without an ID changes nothing but records the call; a hung session survives logoff, rwinsta removes it', async () => {
    const host = seeded();
    const ids = () => host.read().sessions.map((s) => s.Id);
    const [bare, hung, afterHung] = await nativeSteps(host, [['logoff', null], ['logoff 4', null], ['quser 4', null]]);
    expect(bare.code).toBe(0);
    expect(hung.code).toBe(0);
    expect(afterHung.lines[1]).toMatch(/^ carol +rdp-tcp#1 +4  Active/);
    expect(ids()).toEqual([0, 1, 2, 65536, 3, 4]);
    const reset = await native(host, 'reset session 4');
    expect(reset.code).toBe(0);
    expect(ids()).not.toContain(4);
    const cmds = readAudit(host.statePath);
    expect(cmds.map((c) => c.command)).toEqual(['logoff', 'logoff', 'rwinsta']);
    expect(cmds[0].detail.effect).toMatch(/no ID/);
    expect(cmds[1].detail.effect).toMatch(/hung/);
  });

  it('resetting a listener resets the sessions connected through it', async () => {
    const host = seeded();
    const r = await native(host, 'rwinsta 65536');
    expect(r.code).toBe(0);
    // rdp-tcp#0 (alice) and rdp-tcp#1 (carol) go; the listener, console, services and the disconnected bob stay.
    expect(host.read().sessions.map((s) => s.Id).sort((a, b) => a - b)).toEqual([0, 1, 3, 65536]);
  });
});
