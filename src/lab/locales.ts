/**
 * What a lab host in each display language prints: localized well-known account names, quser/qwinsta words and
 * the network-identification error. The data lives in locales.json, which the PowerShell lab module reads too
 * (RdpfixLab.psm1, Get-LabLocale), so that TypeScript (lab init, `rdpfix conform`) and the lab commands share one
 * table. Sources and what is unverified: docs/windows-facts/locales.md.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../paths.js';

export const LAB_LOCALES = ['en-US', 'de-DE', 'fr-FR', 'es-ES', 'ru-RU', 'ja-JP'] as const;
export type LabLocale = (typeof LAB_LOCALES)[number];

export interface LabLocaleData {
  /** SID → the name LookupAccountSid returns on a host in this language (DOMAIN\name, or a bare name). */
  accounts: Record<string, string>;
  sessions: {
    quserHeader: string;
    qwinstaHeader: string;
    /** Lab session state (enum-like) → the STATE word quser/qwinsta print. */
    states: Record<'Active' | 'Disc' | 'Conn' | 'Listen' | 'Down' | 'Idle', string>;
    none: string;
    dateFormat: string;
  };
  /** Set-NetConnectionProfile's message for a network still being identified. */
  identifyingMessage: string;
  /** ERROR_NONE_MAPPED (0x80070534) text, as Register-ScheduledTask prints it for an unknown principal. */
  noMappingMessage: string;
}

export const labLocalesPath = () => path.join(projectRoot(), 'src', 'lab', 'locales.json');

let cache: Record<LabLocale, LabLocaleData> | null = null;

export function labLocales(): Record<LabLocale, LabLocaleData> {
  cache ??= JSON.parse(readFileSync(labLocalesPath(), 'utf8')) as Record<LabLocale, LabLocaleData>;
  return cache;
}

export const labLocale = (locale: LabLocale): LabLocaleData => labLocales()[locale];

export function isLabLocale(v: unknown): v is LabLocale {
  return typeof v === 'string' && (LAB_LOCALES as readonly string[]).includes(v);
}
