import { escapeControl } from '../safe-text.js';

/**
 * Live progress on stderr, one line per event that matters, so stdout stays the result (table or JSON).
 * Plain lines work the same in a terminal and in CI logs.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (record: Record<string, unknown>) => void {
  const started = Date.now();
  const t = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
  // Messages come from hosts: one inert line each, control characters shown escaped.
  const write = (text: string): void => void stream.write(`${escapeControl(text)}\n`);
  return (r) => {
    const where = [r.host, r.playbook, r.step].filter(Boolean).join(' / ');
    switch (r.type) {
      case 'step-applied':
        write(`${t()}  ${where}: applied`);
        break;
      case 'step-failed':
        write(`${t()}  ${where}: FAILED in ${r.phase} (${r.category}): ${String(r.message).split('\n')[0]}`);
        break;
      case 'step-undone':
        write(`${t()}  ${where}: undone${r.reconciled ? ' (reconciled)' : ''}`);
        break;
      case 'undo-failed':
        write(`${t()}  ${where}: UNDO FAILED (${r.category}): ${r.message}`);
        break;
      case 'drift':
        write(`${t()}  ${where}: DRIFT — the host changed since the run; not undone`);
        break;
      case 'host-finished':
      case 'host-rolled-back':
        write(`${t()}  ${r.host}: ${r.outcome}`);
        break;
    }
  };
}
