import { describe, it, expect } from 'vitest';
import { planFromDiagnosis } from '../../src/engine/from-diagnosis.js';
import type { HostDiagnosis } from '../../src/diagnose/diagnose.js';
import type { Playbook } from '../../src/playbooks/manifest.js';

const finding = (cause: string, playbook: string | null, extra: object = {}) => ({ cause, playbook, confidence: 'high', evidence: [], ...extra });
const diag = (host: string, findings: object[]) => ({ host, healthy: findings.length === 0, findings, notes: [] }) as unknown as HostDiagnosis;
const catalogue = new Map(['enable-remote-desktop', 'fix-user-profile', 'nla-temporary-disable'].map((id) => [id, { id } as Playbook]));

/** The diagnosis → plan join, in the engine: tested with no CLI and no host (main had it inside a CLI action). */
describe('plan from a diagnosis', () => {
  it('gives each host the playbooks its findings need, with the parameters its evidence decides; the user’s win', () => {
    const plan = planFromDiagnosis([
      diag('a', []),
      diag('b', [finding('rdp-disabled', 'enable-remote-desktop')]),
      diag('c', [finding('profile-corrupt', 'fix-user-profile', { parameters: { user: 'alice', keep: true } }), finding('dns-mismatch', null), finding('gpo', 'enable-remote-desktop', { blockedByPolicy: true })]),
    ], catalogue, { parameters: { 'fix-user-profile': { keep: false }, 'nla-temporary-disable': { minutes: 5 } } });
    expect(plan.playbookIds).toEqual(['enable-remote-desktop', 'fix-user-profile']);
    expect(plan.playbooksByHost).toEqual({ a: [], b: ['enable-remote-desktop'], c: ['fix-user-profile'] });
    expect(plan.parameters).toEqual({ 'fix-user-profile': { keep: false } });
    expect(plan.hostParameters.c).toEqual({ 'fix-user-profile': { user: 'alice' } });
    expect(plan.choices.find((x) => x.host === 'c')!.unfixable.map((u) => u.cause)).toEqual(['dns-mismatch', 'gpo']);
  });

  it('keeps to the hosts and playbooks asked for', () => {
    const plan = planFromDiagnosis([diag('a', [finding('rdp-disabled', 'enable-remote-desktop')]), diag('B', [finding('rdp-disabled', 'enable-remote-desktop')])], catalogue, { parameters: {}, hosts: ['b'], only: ['fix-user-profile'] });
    expect(plan.choices.map((c) => c.host)).toEqual(['B']);
    expect(plan.playbookIds).toEqual([]);
  });
});
