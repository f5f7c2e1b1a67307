import { z } from 'zod';

/**
 * The ssh `-o` options an inventory may set. An inventory is not trusted, and ssh has many options that run
 * a command or load code on the controller (ProxyCommand, LocalCommand, KnownHostsCommand, Match exec,
 * PKCS11Provider, SecurityKeyProvider, XAuthLocation, Include of another config, ...), open forwards or
 * write files. Only options that tune how the connection is checked and kept alive pass; names match
 * case-insensitively (as ssh reads them) and values are checked per option.
 */
const yesNo = /^(yes|no)$/;
const seconds = /^\d{1,5}$/;
const files = /^[^\u0000-\u001f\u007f"'=%$`\\]+$/;

interface OptionRule {
  value: RegExp;
  values: string;
}

export const SSH_OPTION_HELP: Record<string, OptionRule> = {
  StrictHostKeyChecking: { value: /^(yes|accept-new|no)$/, values: 'yes, accept-new or no' },
  UserKnownHostsFile: { value: files, values: 'a file path (needs StrictHostKeyChecking: yes, so ssh never writes to it)' },
  GlobalKnownHostsFile: { value: files, values: 'a file path' },
  HostKeyAlias: { value: /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, values: 'a host name' },
  CheckHostIP: { value: yesNo, values: 'yes or no' },
  ConnectTimeout: { value: seconds, values: 'seconds' },
  ConnectionAttempts: { value: /^([1-9]|10)$/, values: '1 to 10' },
  ServerAliveInterval: { value: seconds, values: 'seconds' },
  ServerAliveCountMax: { value: /^\d{1,3}$/, values: 'a count' },
  TCPKeepAlive: { value: yesNo, values: 'yes or no' },
  BatchMode: { value: yesNo, values: 'yes or no' },
  IdentitiesOnly: { value: yesNo, values: 'yes or no' },
  Compression: { value: yesNo, values: 'yes or no' },
  AddressFamily: { value: /^(any|inet|inet6)$/, values: 'any, inet or inet6' },
  LogLevel: { value: /^(QUIET|FATAL|ERROR|INFO)$/i, values: 'QUIET, FATAL, ERROR or INFO' },
};

const canonical = new Map(Object.keys(SSH_OPTION_HELP).map((k) => [k.toLowerCase(), k]));

export const sshOptions = z
  .record(z.string(), z.string())
  .superRefine((opts, ctx) => {
    const seen = new Set<string>();
    for (const [name, value] of Object.entries(opts)) {
      if (seen.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: [name], message: 'is given twice (ssh option names ignore case)' });
      seen.add(name.toLowerCase());
      const known = canonical.get(name.toLowerCase());
      if (!known) {
        ctx.addIssue({ code: 'custom', path: [name], message: `ssh option '${name.slice(0, 60)}' is not allowed (allowed: ${Object.keys(SSH_OPTION_HELP).join(', ')})` });
        continue;
      }
      const rule = SSH_OPTION_HELP[known]!;
      if (!rule.value.test(value)) ctx.addIssue({ code: 'custom', path: [name], message: `must be ${rule.values}` });
    }
    const strict = Object.entries(opts).find(([k]) => k.toLowerCase() === 'stricthostkeychecking')?.[1];
    if (Object.keys(opts).some((k) => k.toLowerCase() === 'userknownhostsfile') && strict !== 'yes') {
      ctx.addIssue({ code: 'custom', path: ['UserKnownHostsFile'], message: 'needs StrictHostKeyChecking: yes (otherwise ssh may write new host keys into that file)' });
    }
  })
  .transform((opts) => Object.fromEntries(Object.entries(opts).map(([k, v]) => [canonical.get(k.toLowerCase()) ?? k, v])))
  .optional();
