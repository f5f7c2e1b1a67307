import { RdpfixError } from '../errors.js';
import type { InventoryHost } from '../inventory/inventory.js';
import { missingPasswords, rememberTypedPassword } from '../inventory/secrets.js';
import { escapeControl } from '../safe-text.js';

/**
 * Asks, on a terminal, for each WinRM password the environment does not give: once per credential profile (user and
 * password variable), never echoed, kept in memory only. Without a terminal nothing is asked, and the host's target
 * reports the missing password (exit 3) with both ways to give it.
 */
export async function askForMissingPasswords(hosts: Pick<InventoryHost, 'name' | 'transport'>[], io: { input: NodeJS.ReadStream; output: NodeJS.WriteStream } = { input: process.stdin, output: process.stderr }): Promise<void> {
  const missing = missingPasswords(hosts);
  if (!missing.length || !io.input.isTTY || !io.output.isTTY) return;
  for (const p of missing) {
    const where = `${p.hosts.length} host(s)${p.passwordEnv ? `; $${p.passwordEnv} is not set` : ''}`;
    const password = await readHidden(`Password for ${escapeControl(p.user)} (${where}): `, io);
    if (!password) throw new RdpfixError('usage', `No password typed for ${escapeControl(p.user)}; nothing ran.`, p.passwordEnv ? `Type it at the prompt, or set $${p.passwordEnv}.` : 'Type it at the prompt, or set passwordEnv in the inventory and that variable.');
    rememberTypedPassword(p.key, password);
  }
}

/** Reads a line from a terminal in raw mode: nothing is echoed; backspace edits; Ctrl-C or Ctrl-D abandons. */
export function readHidden(prompt: string, io: { input: NodeJS.ReadStream; output: NodeJS.WriteStream }): Promise<string> {
  const { input, output } = io;
  return new Promise((resolve, reject) => {
    output.write(prompt);
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.setEncoding('utf8');
    let value = '';
    const finish = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && !value)) return finish(new RdpfixError('usage', 'Abandoned at the password prompt; nothing ran.'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}
