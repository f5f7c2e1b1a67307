/** Issue 10 item 5: file and host text reaches the terminal inert: controls escaped, secrets redacted. */
import { describe, it, expect } from 'vitest';
import { escapeControl, excerpt, redactSecrets, yamlNestingProblem } from '../../src/safe-text.js';
import { renderTable } from '../../src/cli/table.js';
import { plainView } from '../../src/cli/views/plain.js';
import { EventStream } from '../../src/engine/events.js';
import { describeError } from '../../src/cli/exit.js';
import { RdpfixError } from '../../src/errors.js';

const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

describe('terminal-safe text', () => {
  it('shows C0, C1, DEL and bidi overrides escaped', () => {
    expect(escapeControl('a\u001b]0;pwned\u0007b\u001b[2Jc\u009b31md\u007fe\u202ef\r\n\t\u0000')).toBe('a\\x1b]0;pwned\\x07b\\x1b[2Jc\\x9b31md\\x7fe\\u202ef\\r\\n\\t\\x00');
    expect(escapeControl('plain é 😀 text')).toBe('plain é 😀 text');
  });

  it('redacts everything after a secret-looking key on a line, in block and flow style', () => {
    expect(redactSecrets('  password: hunter2')).toBe('  password: <redacted>');
    expect(redactSecrets('- { name: h1, transport: { kind: winrm, user: a, password: "hunter2" } }')).toBe('- { name: h1, transport: { kind: winrm, user: a, password: <redacted>');
    for (const key of ['Password', 'passwd', 'secret', 'clientSecret', 'token', 'apiKey', 'api_key', 'privateKey', 'credential']) {
      expect(redactSecrets(`${key}: s3cr3t`), key).not.toContain('s3cr3t');
    }
    expect(redactSecrets('name: web01')).toBe('name: web01');
    expect(excerpt(`token: abc\u001b[2J${'x'.repeat(500)}`)).toBe('token: <redacted>');
    expect(excerpt(`name: \u001b[2J${'x'.repeat(500)}`)).toMatch(/^name: \\x1b\[2Jx+…$/);
  });

  it('keeps error messages, table cells and progress lines free of raw controls', () => {
    expect(describeError(new RdpfixError('input', 'bad \u001b[2J value\nsecond line', 'fix \u0007 it'))).toBe('rdpfix: bad \\x1b[2J value\nsecond line\n  Fix: fix \\x07 it');
    const table = renderTable(['HOST', 'NOTE'], [['h\u001b]0;x\u0007', 'a\u009bb']]);
    expect(table).not.toMatch(RAW_CONTROL);
    expect(table).toContain('h\\x1b]0;x\\x07');
    let out = '';
    const events = new EventStream().subscribe(plainView({ write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream, { colour: true }));
    events.emit({ type: 'undo-failed', host: 'h\u001b[2J', playbook: 'p', step: 's', category: 'script', message: 'boom \u001b[2J\rhidden' });
    expect(out).toMatch(/UNDO FAILED.*\(script\): boom \\x1b\[2J\\rhidden\n$/);
    expect(out).toContain('h\\x1b[2J / p / s');
  });

  it('counts YAML nesting before parsing, outside quotes and comments', () => {
    expect(yamlNestingProblem('['.repeat(65))).toMatch(/nested too deeply/);
    expect(yamlNestingProblem(`a: "${'['.repeat(500)}"\nb: '${'{'.repeat(500)}'\n# ${'['.repeat(500)}\n`)).toBeNull();
    expect(yamlNestingProblem(`hosts:\n${'  - '.repeat(100)}x\n`)).toMatch(/nested too deeply/);
    expect(yamlNestingProblem(`${' '.repeat(300)}a: 1\n`)).toMatch(/nested too deeply/);
    expect(yamlNestingProblem('version: 1\nhosts: [{ name: a, transport: { kind: ssh, sshOptions: { BatchMode: "yes" } } }]\n')).toBeNull();
  });
});
