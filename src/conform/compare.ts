import type { FactName, HostFacts } from './facts.js';

/** One place where a real host answers otherwise than the lab's model of its build and language. */
export interface Difference {
  aspect: FactName | 'model';
  item: string;
  host: unknown;
  lab: unknown;
  /** Why it matters, for the person who sends the report. */
  note: string;
}

/** What the lab models: the builds and display languages a reference host can be made for. */
export interface LabModel {
  builds: string[];
  locales: string[];
}

/**
 * Where the real host's facts differ from the lab reference host's (the lab made for the same build and language,
 * or the nearest it models). Values that only reflect state (a stopped service, a Public network) are not
 * differences; kinds, enum numbers, names, shapes, ACLs and what exists are.
 */
export function compareFacts(host: HostFacts, lab: HostFacts, model: LabModel): Difference[] {
  const out: Difference[] = [];
  const diff = (aspect: Difference['aspect'], item: string, h: unknown, l: unknown, note: string) => out.push({ aspect, item, host: h, lab: l, note });

  const hf = host.facts;
  const lf = lab.facts;
  for (const name of Object.keys(host.errors) as FactName[]) {
    if (!(name in lab.errors)) diff(name, '(read)', `error: ${host.errors[name]!.message}`, 'read', 'The host could not answer what the lab answers: a script relying on it would fail there.');
  }
  for (const name of Object.keys(lab.errors) as FactName[]) {
    if (!(name in host.errors)) diff(name, '(read)', 'read', `error: ${lab.errors[name]!.message}`, 'The lab cannot answer what the host answers: the lab lacks this part of Windows.');
  }

  if (hf.os && lf.os) {
    if (!model.builds.includes(hf.os.buildNumber)) diff('model', 'build', hf.os.buildNumber, lf.os.buildNumber, `The lab models build ${model.builds.join(', ')} only; compared with that.`);
    if (!model.locales.includes(hf.os.uiCulture)) diff('model', 'display language', hf.os.uiCulture, lf.os.uiCulture, `The lab models ${model.locales.join(', ')}; compared with ${lf.os.uiCulture}.`);
    // The lab runs host scripts in pwsh 7 with Windows PowerShell 5.1's quirks switched on: the host is compared
    // with 5.1, the version every host-side script is written for, not with the lab's own engine.
    if (hf.os.psEdition !== 'Desktop' || !hf.os.psVersion.startsWith('5.1')) diff('os', 'PowerShell', `${hf.os.psVersion} (${hf.os.psEdition})`, '5.1 (Desktop)', 'Host-side scripts are written for, and the lab imitates, Windows PowerShell 5.1; remoting reached another PowerShell.');
    if (hf.os.productType !== lf.os.productType) diff('os', 'product type', hf.os.productType, lf.os.productType, '1 workstation, 2 domain controller, 3 server.');
  }

  if (hf.commands && lf.commands) {
    for (const name of new Set([...Object.keys(hf.commands), ...Object.keys(lf.commands)])) {
      const h = hf.commands[name];
      const l = lf.commands[name];
      if (h === l) continue;
      diff('commands', name, h ?? 'not asked', l ?? 'not asked', h ? 'The host has a command the lab lacks.' : 'A command our scripts call is missing on the host.');
    }
  }

  if (hf.enums && lf.enums) {
    for (const key of new Set([...Object.keys(hf.enums), ...Object.keys(lf.enums)])) {
      const h = hf.enums[key] ?? null;
      const l = lf.enums[key] ?? null;
      if (h === null || l === null) {
        if (h !== l) diff('enums', key, h, l, 'One side has no value to compare.');
        continue;
      }
      if (h.type !== l.type) diff('enums', `${key} type`, h.type, l.type, 'Scripts compare this property by its enum value: the lab must return the same type.');
      // Same state: the same number. Different states (a stopped service on one side) say nothing about the enum.
      else if (h.name === l.name && h.value !== l.value) diff('enums', `${key} value of ${h.name}`, h.value, l.value, 'The same state has another number on the host.');
    }
  }

  if (hf.jsonShapes && lf.jsonShapes) {
    for (const key of new Set([...Object.keys(hf.jsonShapes), ...Object.keys(lf.jsonShapes)])) {
      if (hf.jsonShapes[key] !== lf.jsonShapes[key]) diff('jsonShapes', key, hf.jsonShapes[key], lf.jsonShapes[key], 'ConvertTo-Json writes this otherwise on the host (Windows PowerShell 5.1 quirks).');
    }
  }

  if (hf.accounts && lf.accounts) {
    for (const sid of new Set([...Object.keys(hf.accounts), ...Object.keys(lf.accounts)])) {
      if (hf.accounts[sid] !== lf.accounts[sid]) diff('accounts', sid, hf.accounts[sid] ?? null, lf.accounts[sid] ?? null, 'The name this display language gives the account differs from the lab\'s.');
    }
  }

  if (hf.keyAcls && lf.keyAcls) {
    for (const key of ['machineKeysSddl', 'rdpKeySddl'] as const) {
      if (hf.keyAcls[key] !== lf.keyAcls[key]) diff('keyAcls', key, hf.keyAcls[key], lf.keyAcls[key], 'The documented ACL the lab (and machinekeys-repair) assume differs from this host\'s. On a healthy host this is a lab error.');
    }
  }

  if (hf.firewallRules && lf.firewallRules) {
    const byName = (rules: NonNullable<HostFacts['facts']['firewallRules']>) => new Map(rules.map((r) => [r.name, r]));
    const h = byName(hf.firewallRules);
    const l = byName(lf.firewallRules);
    for (const name of new Set([...h.keys(), ...l.keys()])) {
      const hr = h.get(name);
      const lr = l.get(name);
      if (!hr || !lr) {
        diff('firewallRules', name, hr ? 'present' : 'absent', lr ? 'present' : 'absent', hr ? 'The host has a built-in rule the lab lacks.' : 'A built-in rule the lab (and rdp-firewall-rules) expects is not on the host.');
        continue;
      }
      if (hr.group !== lr.group) diff('firewallRules', `${name} group`, hr.group, lr.group, 'The group resource string is what scripts match; it must not differ.');
      if (hr.displayGroup !== lr.displayGroup) diff('firewallRules', `${name} display group`, hr.displayGroup, lr.displayGroup, 'The localized group name differs from the lab\'s model of this language.');
    }
  }

  if (hf.eventProviders && lf.eventProviders) {
    for (const p of new Set([...Object.keys(hf.eventProviders), ...Object.keys(lf.eventProviders)])) {
      const h = hf.eventProviders[p];
      const l = lf.eventProviders[p];
      if (!h || !l) continue;
      if (h.present !== l.present) diff('eventProviders', p, h.present ? 'present' : 'absent', l.present ? 'present' : 'absent', 'Diagnosis queries this provider for evidence.');
      else if ([...h.ids].sort().join(',') !== [...l.ids].sort().join(',')) diff('eventProviders', `${p} event IDs`, h.ids, l.ids, 'Diagnosis reads these event IDs from this provider.');
    }
  }

  if (hf.sessions && lf.sessions) {
    const hs = hf.sessions;
    const ls = lf.sessions;
    for (const which of ['session0', 'listener'] as const) {
      const h = hs[which];
      const l = ls[which];
      if (JSON.stringify(h) !== JSON.stringify(l)) diff('sessions', which, h, l, 'rdpfix reads sessions through the WTS API by these enum states and WinStation names; the lab models them so.');
    }
    if (hs.agreesWithQwinsta !== ls.agreesWithQwinsta) diff('sessions', 'WTS list agrees with qwinsta', hs.agreesWithQwinsta, ls.agreesWithQwinsta, 'The WTS reader\'s session IDs are not the ones qwinsta lists: its struct layout or marshalling is wrong on this host.');
  }

  if (hf.toolText && lf.toolText && hf.toolText.qwinstaHeader.trim() !== lf.toolText.qwinstaHeader.trim()) {
    diff('toolText', 'qwinsta header', hf.toolText.qwinstaHeader, lf.toolText.qwinstaHeader, 'Localized tool text differs from the lab\'s model of this language (rdpfix never parses it on hosts; parseQuser reads it for users).');
  }
  return out;
}
