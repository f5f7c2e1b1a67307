import { describe, it, expect } from 'vitest';
import { makeLabHost, runLab } from '../helpers/lab.js';
import type { LabEvent } from '../../src/lab/state.js';

const RCM = 'Microsoft-Windows-TerminalServices-RemoteConnectionManager';
const events: LabEvent[] = [
  { LogName: 'System', ProviderName: RCM, Id: 1058, Level: 2, TimeCreated: '2026-11-25T10:00:00.000Z', RecordId: 10,
    Message: 'The RD Session Host Server has failed to replace the expired self signed certificate used for RD Session Host Server authentication on TLS connections. The relevant status code was Access is denied.' },
  { LogName: 'System', ProviderName: 'Service Control Manager', Id: 7022, Level: 2, TimeCreated: '2026-11-25T11:00:00.000Z', RecordId: 11, Message: 'The Remote Desktop Services service hung on starting.' },
  { LogName: 'System', ProviderName: RCM, Id: 1057, Level: 3, TimeCreated: '2026-11-20T09:00:00.000Z', RecordId: 4, Message: 'old' },
  { LogName: 'Application', ProviderName: 'Microsoft-Windows-User Profiles Service', Id: 1511, Level: 3, TimeCreated: '2026-11-25T11:30:00.000Z', RecordId: 7, Message: 'temp profile' },
];

describe('lab Get-WinEvent', () => {
  it('filters, orders newest first and returns EventLogRecord-shaped objects', async () => {
    const host = makeLabHost((s) => { s.events = events; });
    const r = await runLab(host.statePath, `param($rcm)
      $e = @(Get-WinEvent -FilterHashtable @{ LogName = 'System'; ProviderName = $rcm; Id = 1057, 1058 })
      $first = $e[0]
      [ordered]@{
        ids = @($e | ForEach-Object Id)
        type = $first.PSObject.TypeNames[0]
        shape = @($first.TimeCreated.GetType().Name, $first.Id, $first.ProviderName, $first.LevelDisplayName, $first.LogName, $first.RecordId, $first.MachineName)
        message = $first.Message
        utc = $first.TimeCreated.ToUniversalTime().ToString('o')
        recent = @(Get-WinEvent -FilterHashtable @{ LogName = 'System'; ProviderName = $rcm; Id = 1057, 1058; StartTime = [datetime]'2026-11-24T00:00:00Z' } | ForEach-Object RecordId)
        level = @(Get-WinEvent -FilterHashtable @{ LogName = 'System', 'Application'; Level = 3 } | ForEach-Object RecordId)
        max = @(Get-WinEvent -LogName System -MaxEvents 2 | ForEach-Object RecordId)
        oldest = @(Get-WinEvent -LogName System -Oldest | ForEach-Object RecordId)
      }`, [RCM]);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({
      ids: [1058, 1057],
      type: 'System.Diagnostics.Eventing.Reader.EventLogRecord',
      shape: ['DateTime', 1058, RCM, 'Error', 'System', 10, 'LAB-001'],
      message: events[0].Message,
      utc: '2026-11-25T10:00:00.0000000Z',
      recent: [10],
      level: [7, 4],
      max: [11, 10],
      oldest: [4, 10, 11],
    });
  });

  it('no match writes NoMatchingEventsFound (terminating under Stop); an unknown log is NoMatchingLogsFound', async () => {
    const host = makeLabHost((s) => { s.events = events; });
    const r = await runLab(host.statePath, `
      Get-WinEvent -FilterHashtable @{ LogName = 'System'; Id = 9999 } -ErrorAction SilentlyContinue -ErrorVariable ev
      Get-WinEvent -LogName 'Nope' -ErrorAction SilentlyContinue -ErrorVariable ev2
      $stop = $null
      try { Get-WinEvent -FilterHashtable @{ LogName = 'Application'; Id = 1 } } catch { $stop = $_.FullyQualifiedErrorId }
      [ordered]@{ e = @($ev[0].ToString(), $ev[0].FullyQualifiedErrorId, $ev[0].CategoryInfo.ToString())
        e2 = @($ev2[0].ToString(), $ev2[0].FullyQualifiedErrorId); stop = $stop
        quiet = @(Get-WinEvent -LogName 'Microsoft-Windows-TerminalServices-LocalSessionManager/Operational' -ErrorAction SilentlyContinue).Count }`);
    expect(r.error).toBeNull();
    expect(r.output[0]).toEqual({
      e: ['No events were found that match the specified selection criteria.', 'NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand', 'ObjectNotFound: (:) [Get-WinEvent], Exception'],
      e2: ['There is not an event log on the localhost computer that matches "Nope".', 'NoMatchingLogsFound,Microsoft.PowerShell.Commands.GetWinEventCommand'],
      stop: 'NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand',
      quiet: 0,
    });
  });
});
