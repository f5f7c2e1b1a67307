import { Broker } from '../broker/broker.js';
import { RdpfixError } from '../errors.js';
import type { TransportTarget } from '../transport/targets.js';
import { locatePowerShell } from './locate.js';

/**
 * The controller's own environment, checked before any host is touched: PowerShell is there, it starts, and
 * (for WinRM hosts on a non-Windows controller) it has a WSMan client library. Each problem is a config error
 * (exit 3) with its fix — never a host failure or "unreachable".
 */
// PowerShell loads the WSMan client (libpsrpclient, which needs libmi) from $PSHOME first, then the loader's paths.
const WSMAN_PROBE = `param($name)
if ([System.IO.File]::Exists([System.IO.Path]::Combine($PSHOME, $name))) { return $true }
$handle = [IntPtr]::Zero
[System.Runtime.InteropServices.NativeLibrary]::TryLoad($name, [ref]$handle)`;

const CONTROLLER = { kind: 'local', host: 'controller' } as const;

export async function startBroker(o: { pwsh?: string; processes: number; targets: TransportTarget[]; platform?: NodeJS.Platform }): Promise<Broker> {
  const { executable } = locatePowerShell(o.pwsh);
  const broker = new Broker({ executable, processes: o.processes });
  // The first process of the pool starts now (the others when hosts need them): its broker answering is the proof
  // that PowerShell runs. No call: a call would open a runspace for the controller, which a run on lab or remote
  // hosts may never need (on a 200-host lab apply that runspace cost 2–3 s of wall time at the start).
  try {
    await broker.startFirst();
  } catch (err) {
    await broker.close().catch(() => undefined);
    throw new RdpfixError('config', `PowerShell ${executable} cannot start: ${(err as Error).message.split('\n')[0]}`,
      'Check that it runs (`pwsh -NoProfile -Command 1`), point --pwsh or RDPFIX_PWSH at a working pwsh, or run `npm run provision`.');
  }
  if ((o.platform ?? process.platform) !== 'win32' && o.targets.some((t) => t.kind === 'winrm')) {
    const library = (o.platform ?? process.platform) === 'darwin' ? 'libpsrpclient.dylib' : 'libpsrpclient.so';
    const r = await broker.invoke(CONTROLLER, WSMAN_PROBE, [library], { timeoutMs: 30_000 });
    if (!r.ok || r.data.output[0] !== true) {
      await broker.close().catch(() => undefined);
      throw new RdpfixError('config', `The inventory has WinRM hosts, and this controller's PowerShell (${executable}) has no WSMan client library (${library}, in $PSHOME or on the loader's path).`,
        'Install one into that PowerShell (Install-Module PSWSMan; Install-WSMan, as root), or reach these hosts over SSH (transport kind: ssh).');
    }
  }
  return broker;
}
