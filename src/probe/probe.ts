import { readFileSync } from 'node:fs';
import { withPrelude } from '../playbooks/prelude.js';
import path from 'node:path';
import { z } from 'zod';
import type { Broker } from '../broker/broker.js';
import type { ErrorCategory } from '../broker/protocol.js';
import type { Inventory } from '../inventory/inventory.js';
import { targetFor } from '../inventory/inventory.js';
import { projectRoot } from '../paths.js';
import { findPs51ArrayWrapper, ps51ArrayWrapperMessage } from '../powershell/ps51-array-wrapper.js';

/** What probe-host.ps1 returns (validated: anything else is a transport-level surprise, not data). */
const probeOutput = z.object({
  computerName: z.string(),
  sections: z.record(z.unknown()),
  errors: z.record(z.object({ message: z.string(), fqid: z.string().nullable().optional() })),
});
export type ProbeData = z.infer<typeof probeOutput>;

export type ProbeResult =
  | { host: string; ok: true; durationMs: number; data: ProbeData }
  | { host: string; ok: false; durationMs: number; error: { category: ErrorCategory; message: string; fqid?: string } };

let probeScript: string | undefined;
/** The probe as it is sent: probe-host.ps1 with the step prelude inserted (its WTS session reader, the listener check). */
export const probeHostScript = () => (probeScript ??= withPrelude(readFileSync(path.join(projectRoot(), 'src', 'probe', 'ps', 'probe-host.ps1'), 'utf8')));
const script = probeHostScript;

/** Runs the read-only probe on every host of the inventory, concurrently through the broker. */
export async function probeFleet(inventory: Inventory, broker: Broker, options: { timeoutMs: number; onResult?: (r: ProbeResult) => void }): Promise<ProbeResult[]> {
  return Promise.all(
    inventory.hosts.map(async (host): Promise<ProbeResult> => {
      const started = Date.now();
      const target = targetFor(host);
      const envelope = await broker.invoke(target, script(), ['{}'], { timeoutMs: options.timeoutMs });
      await broker.closeSession(target);
      let result: ProbeResult;
      if (!envelope.ok) {
        const { category, message, fqid } = envelope.error;
        result = { host: host.name, ok: false, durationMs: Date.now() - started, error: { category, message, ...(fqid ? { fqid } : {}) } };
      } else {
        const raw = typeof envelope.data.output[0] === 'string' ? safeJson(envelope.data.output[0]) : undefined;
        const wrapped = findPs51ArrayWrapper(raw);
        const parsed = probeOutput.safeParse(raw);
        result = wrapped
          ? { host: host.name, ok: false, durationMs: Date.now() - started, error: { category: 'script', message: ps51ArrayWrapperMessage('The probe result', wrapped) } }
          : parsed.success
          ? { host: host.name, ok: true, durationMs: Date.now() - started, data: parsed.data }
          : { host: host.name, ok: false, durationMs: Date.now() - started, error: { category: 'script', message: `The probe returned something other than its JSON result: ${JSON.stringify(envelope.data.output).slice(0, 200)}` } };
      }
      options.onResult?.(result);
      return result;
    }),
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
