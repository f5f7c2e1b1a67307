import { describe, it, expect } from 'vitest';
import { makeLabHost, runLab, LAB_SEEDED_AT } from '../helpers/lab.js';
import { preludeText } from '../../src/playbooks/prelude.js';
import type { LabSession } from '../../src/lab/state.js';

// Sessions through the WTS API (prelude's Get-RdpfixSessions) on lab hosts: the prelude's own C# - structs,
// marshalling, idle time - runs against the lab's model of wtsapi32.dll (src/lab/ps/wtsapi32-model.cs), which lays
// memory out as Windows does. docs/windows-facts/sessions-wts.md.

const sess = (p: Partial<LabSession> & Pick<LabSession, 'Id'>): LabSession => ({
  SessionName: '', UserName: '', State: 'Active', Type: '', Device: '', IdleMinutes: null, LogonTime: null, ...p,
});

const LIST = `
$s = Get-RdpfixSessions
$again = Get-RdpfixSessions
ConvertTo-Json -InputObject ([ordered]@{ sessions = $s; count2 = $again.Count; outstanding = [RdpfixWts.NativeMethods]::Outstanding }) -Depth 5 -Compress`;

type Row = { id: number; state: number; stateName: string; winStation: string; user: string; domain: string; idleMinutes: number | null; logonTime: string | null };

async function list(sessions: LabSession[], locale: 'en-US' | 'ja-JP' | 'de-DE' = 'en-US') {
  const host = makeLabHost((s) => { s.sessions = sessions; s.locale = locale; });
  const r = await runLab(host.statePath, `${preludeText()}\n${LIST}`);
  expect(r.error).toBeNull();
  return { ...(JSON.parse(r.output[0] as string) as { sessions: Row[]; count2: number; outstanding: number }), computerName: host.state.computerName };
}

describe('sessions through the WTS API (lab model of wtsapi32)', () => {
  it('lists every session by enum state, with user, domain, idle time from the right clock, and frees what it was given', async () => {
    const logon = new Date(LAB_SEEDED_AT.getTime() - 9 * 86_400_000).toISOString();
    const r = await list([
      sess({ Id: 0, SessionName: 'services', State: 'Disc' }),
      sess({ Id: 1, SessionName: 'console', State: 'Conn' }),
      sess({ Id: 2, SessionName: 'rdp-tcp#0', UserName: 'alice', State: 'Active', IdleMinutes: 7, LogonTime: logon }),
      sess({ Id: 3, SessionName: '', UserName: 'CONTOSO\\bob', State: 'Disc', IdleMinutes: 2 * 1440 + 65, LogonTime: logon }),
      sess({ Id: 65536, SessionName: 'rdp-tcp', State: 'Listen' }),
    ], 'ja-JP');
    const byId = new Map(r.sessions.map((s) => [s.id, s]));
    expect([...byId.keys()]).toEqual([0, 1, 2, 3, 65536]);
    expect(byId.get(0)).toMatchObject({ state: 4, stateName: 'Disconnected', winStation: 'Services', user: '' });
    expect(byId.get(1)).toMatchObject({ state: 1, stateName: 'Connected', winStation: 'Console', user: '' });
    expect(byId.get(2)).toMatchObject({ state: 0, stateName: 'Active', winStation: 'RDP-Tcp#0', user: 'alice', domain: r.computerName.toUpperCase(), logonTime: logon.replace('.000Z', '.0000000Z') });
    // Disconnected: idle time is since the disconnect (the model leaves LastInputTime 0 there).
    expect(byId.get(3)).toMatchObject({ state: 4, winStation: '', user: 'bob', domain: 'CONTOSO' });
    expect(byId.get(3)!.idleMinutes).toBeGreaterThanOrEqual(2 * 1440 + 65);
    expect(byId.get(3)!.idleMinutes).toBeLessThan(2 * 1440 + 67);
    expect(byId.get(2)!.idleMinutes).toBeGreaterThanOrEqual(7);
    expect(byId.get(65536)).toMatchObject({ state: 6, stateName: 'Listen', winStation: 'RDP-Tcp' });
    expect(r.count2).toBe(5);
    expect(r.outstanding).toBe(0);
  });

  it('the lab refuses C# that Windows PowerShell 5.1 cannot compile (C# 6+), and DLLs it has no model of', async () => {
    const host = makeLabHost();
    const r = await runLab(host.statePath, `
$c6 = 'namespace LabT6 { public static class A { public static string F() { int x = 1; return $"v{x}"; } } }'
$dll = 'namespace LabT7 { public static class B { [System.Runtime.InteropServices.DllImport("netapi32.dll")] public static extern int NetApiBufferFree(System.IntPtr p); } }'
$out = @()
foreach ($src in @($c6, $dll)) { try { Add-Type -TypeDefinition $src; $out += 'added' } catch { $out += "refused: $($_.Exception.Message)" } }
ConvertTo-Json -InputObject $out -Compress`);
    expect(r.error).toBeNull();
    const out = JSON.parse(r.output[0] as string) as string[];
    expect(out[0]).toMatch(/^refused: .*C# 5/);
    expect(out[1]).toMatch(/^refused: .*no model/);
  });
});
