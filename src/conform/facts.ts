import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Broker } from '../broker/broker.js';
import type { ErrorCategory } from '../broker/protocol.js';
import { projectRoot } from '../paths.js';
import { withPrelude } from '../playbooks/prelude.js';
import type { TransportTarget } from '../transport/targets.js';

const sessionKind = z.object({ state: z.number(), winStation: z.string(), hasUser: z.boolean() }).nullable();
const enumFact = z.object({ type: z.string(), value: z.number().nullable(), name: z.string() }).nullable();

/** What conform-facts.ps1 returns: each fact, or the error that kept it from being read. Anything else is refused. */
export const factsOutput = z.object({
  facts: z.object({
    os: z.object({ caption: z.string(), version: z.string(), buildNumber: z.string(), productType: z.number(), locale: z.string(), uiCulture: z.string(), psVersion: z.string(), psEdition: z.string() }).optional(),
    commands: z.record(z.boolean()).optional(),
    enums: z.record(enumFact).optional(),
    jsonShapes: z.record(z.string()).optional(),
    accounts: z.record(z.string().nullable()).optional(),
    keyAcls: z.object({ machineKeysSddl: z.string().nullable(), rdpKeySddl: z.string().nullable() }).optional(),
    firewallRules: z.array(z.object({ name: z.string(), group: z.string(), displayGroup: z.string() })).optional(),
    eventProviders: z.record(z.object({ present: z.boolean(), ids: z.array(z.number()) })).optional(),
    sessions: z.object({ session0: sessionKind, listener: sessionKind, agreesWithQwinsta: z.boolean() }).nullable().optional(),
    toolText: z.object({ qwinstaHeader: z.string() }).optional(),
  }),
  errors: z.record(z.object({ message: z.string(), fqid: z.string().nullable().optional() })),
});
export type HostFacts = z.infer<typeof factsOutput>;
export type FactName = keyof HostFacts['facts'];

export type FactsResult =
  | { ok: true; facts: HostFacts }
  | { ok: false; error: { category: ErrorCategory | 'output'; message: string } };

let factsScript: string | undefined;
const script = () => (factsScript ??= withPrelude(readFileSync(path.join(projectRoot(), 'src', 'conform', 'ps', 'conform-facts.ps1'), 'utf8')));

/** Runs the read-only facts script on one host. */
export async function readFacts(broker: Broker, target: TransportTarget, timeoutMs: number): Promise<FactsResult> {
  const envelope = await broker.invoke(target, script(), ['{}'], { timeoutMs });
  await broker.closeSession(target);
  if (!envelope.ok) return { ok: false, error: { category: envelope.error.category, message: envelope.error.message } };
  const first = envelope.data.output[0];
  let doc: unknown;
  try {
    doc = typeof first === 'string' ? JSON.parse(first) : undefined;
  } catch {
    doc = undefined;
  }
  const parsed = factsOutput.safeParse(doc);
  if (!parsed.success) return { ok: false, error: { category: 'output', message: `The facts script returned something other than its JSON result: ${JSON.stringify(envelope.data.output).slice(0, 200)}` } };
  return { ok: true, facts: parsed.data };
}
