/**
 * Live progress on stderr, one line per event that matters, so stdout stays the result (table or JSON).
 * Plain lines work the same in a terminal and in CI logs.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (record: Record<string, unknown>) => void {
  const started = Date.now();
  const t = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
  return (r) => {
    const where = [r.host, r.playbook, r.step].filter(Boolean).join(' / ');
    switch (r.type) {
      case 'step-applied':
        stream.write(`${t()}  ${where}: applied\n`);
        break;
      case 'step-failed':
        stream.write(`${t()}  ${where}: FAILED in ${r.phase} (${r.category}): ${String(r.message).split('\n')[0]}\n`);
        break;
      case 'step-undone':
        stream.write(`${t()}  ${where}: undone${r.reconciled ? ' (reconciled)' : ''}\n`);
        break;
      case 'undo-failed':
        stream.write(`${t()}  ${where}: UNDO FAILED (${r.category}): ${r.message}\n`);
        break;
      case 'drift':
        stream.write(`${t()}  ${where}: DRIFT — the host changed since the run; not undone\n`);
        break;
      case 'host-finished':
      case 'host-rolled-back':
        stream.write(`${t()}  ${r.host}: ${r.outcome}\n`);
        break;
    }
  };
}
