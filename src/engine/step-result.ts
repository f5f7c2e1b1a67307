import { z } from 'zod';
import type { ScriptPhase, ScriptResult } from '../../machines/playbook.machine.js';
import { findPs51ArrayWrapper, ps51ArrayWrapperMessage } from '../powershell/ps51-array-wrapper.js';

/**
 * The one result contract of every step script: exactly one JSON object on the output. Anything else
 * is a broken script, reported as such (category 'script'), never taken as a result.
 */
const result = z
  .object({
    compliant: z.boolean().optional(),
    blocked: z.string().nullable().optional(),
    predictable: z.boolean().optional(),
    before: z.unknown().optional(),
    after: z.unknown().optional(),
    state: z.unknown().optional(),
    changed: z.boolean().optional(),
    ok: z.boolean().optional(),
    reason: z.string().optional(),
    rebootRequired: z.boolean().optional(),
    warnings: z.array(z.string()).optional(),
  })
  .passthrough();

const required: Record<ScriptPhase, keyof z.infer<typeof result> | null> = {
  check: 'compliant',
  capture: 'state',
  apply: 'changed',
  verify: 'ok',
  undo: 'changed',
};

export class StepResultError extends Error {
  readonly category = 'script';
}

export function parseStepResult(phase: ScriptPhase, output: unknown[]): ScriptResult {
  const texts = output.filter((o) => typeof o === 'string' && o.trim().startsWith('{')) as string[];
  if (texts.length !== 1) {
    throw new StepResultError(`The ${phase} script must output exactly one JSON object; it output ${output.length} item(s): ${JSON.stringify(output).slice(0, 300)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(texts[0]!);
  } catch {
    throw new StepResultError(`The ${phase} script's output is not valid JSON: ${texts[0]!.slice(0, 300)}`);
  }
  const wrapped = findPs51ArrayWrapper(raw);
  if (wrapped) throw new StepResultError(ps51ArrayWrapperMessage(`The ${phase} script's result`, wrapped));
  const parsed = result.safeParse(raw);
  if (!parsed.success) throw new StepResultError(`The ${phase} script's result does not fit the contract: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
  const key = required[phase];
  if (key && !(key in parsed.data)) throw new StepResultError(`The ${phase} script's result lacks '${key}'.`);
  return { ...parsed.data, warnings: parsed.data.warnings ?? [] } as ScriptResult;
}
