import { afterText, showValue, type RunReport } from './model.js';

/** The report as Markdown: for a ticket or a pull request. Cells are escaped so host text cannot break the table. */
export function renderMarkdown(r: RunReport): string {
  const cell = (t: string) => t.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/([\\|`*_[\]<>])/g, '\\$1');
  const totals = Object.entries(r.totals).filter(([k, n]) => k === 'hosts' || n > 0);
  const lines = [
    `# rdpfix ${r.mode}: run ${r.runId} (${r.status})`, '',
    `Started ${r.started}; last record ${r.lastTime}; inventory \`${cell(r.inventory)}\`; rdpfix ${r.version}.`, '',
    `| ${totals.map(([k]) => k).join(' | ')} |`, `| ${totals.map(() => '---').join(' | ')} |`, `| ${totals.map(([, n]) => n).join(' | ')} |`, '',
    '| host | state | playbooks | left unfixed |', '| --- | --- | --- | --- |',
    ...r.hosts.map((h) => `| ${cell(h.host)} | ${h.state} | ${h.playbooks.map((p) => `${cell(p.playbook)}: ${p.rollbackOutcome ?? p.outcome ?? 'not finished'}`).join('<br>')} | ${h.unfixed.map((u) => cell(`${u.cause} (${u.why})`)).join('<br>')} |`),
  ];
  for (const h of r.hosts) {
    if (!h.playbooks.length) continue;
    lines.push('', `## ${cell(h.host)}: ${h.state}`);
    for (const p of h.playbooks) {
      lines.push('', `### ${cell(p.playbook)}: ${p.outcome ?? 'not finished'}${p.rollbackOutcome ? `, rollback: ${p.rollbackOutcome}` : ''}`);
      if (p.failure) lines.push('', `Failed at ${cell(p.failure.step)} (${p.failure.phase}): ${cell(p.failure.message)}`);
      for (const n of p.notes) lines.push('', `- ${cell(n)}`);
      if (p.revertTasksLeft.length) lines.push('', `Revert tasks still on the host: ${p.revertTasksLeft.map(cell).join(', ')}`);
      lines.push('', '| step | before | after |', '| --- | --- | --- |', ...p.steps.map((s) => `| ${cell(s.step)} | ${cell(showValue(s.before))} | ${cell(afterText(s))} |`));
    }
  }
  return `${lines.join('\n')}\n`;
}
