import { openFleet } from '../engine-options.js';
import { versioned } from '../../json-schema.js';
import { probeFleet, type ProbeResult } from '../../probe/probe.js';
import { renderTable } from '../table.js';
import type { FleetReadFlags } from '../options.js';
import { EXIT } from '../exit.js';

interface Section { [k: string]: unknown }

function row(r: ProbeResult): string[] {
  if (!r.ok) return [r.host, `FAILED (${r.error.category})`, r.error.message.replace(/\s+/g, ' ').slice(0, 80)];
  const s = r.data.sections as Record<string, unknown>;
  const services = (s.services as Section[] | undefined) ?? [];
  const ts = services.find((x) => x.name === 'TermService');
  const rdp = (s.rdp as Section | undefined) ?? {};
  const deny = rdp.policyFDenyTSConnections ?? rdp.fDenyTSConnections;
  const profiles = ((s.networkProfiles as Section[] | undefined) ?? []).map((p) => p.category).join(',');
  const rules = (s.firewall as Section[] | undefined) ?? [];
  const sessions = s.sessions as { lines?: string[] } | undefined;
  const errors = Object.keys(r.data.errors);
  const facts = [
    `TermService ${ts?.status ?? '?'}`,
    `RDP ${deny === 0 ? 'on' : 'OFF'}`,
    `NLA ${(rdp.policyUserAuthentication ?? rdp.userAuthentication) === 1 ? 'on' : 'off'}`,
    `net ${profiles || '?'}`,
    `fw ${rules.filter((x) => x.enabled).length}/${rules.length} (${[...new Set(rules.map((x) => x.profile))].join(';')})`,
    `sessions ${Math.max(0, (sessions?.lines?.length ?? 1) - 1)}`,
  ];
  return [r.host, errors.length ? `read (${errors.length} section errors: ${errors.join(',')})` : 'read', facts.join('  ')];
}

/** `rdpfix probe`: loaded only when the command runs (see probe.command.ts). */
export async function probeAction(o: FleetReadFlags): Promise<void> {
  const { inventory, broker } = await openFleet(o);
  const started = Date.now();
  try {
    const results = await probeFleet(inventory, broker, { timeoutMs: o.timeout });
    const failed = results.filter((r) => !r.ok).length;
    if (o.json) {
      console.log(JSON.stringify(versioned('probe', { inventory: inventory.path, hosts: results.length, failed, durationMs: Date.now() - started, results }), null, 2));
    } else {
      console.log(renderTable(['HOST', 'PROBE', 'FACTS'], results.map(row)));
      console.log(`\n${results.length} hosts probed in ${((Date.now() - started) / 1000).toFixed(1)} s; ${failed} could not be read.`);
    }
    if (failed > 0) process.exitCode = EXIT.hostsFailed;
  } finally {
    await broker.close();
  }
}
