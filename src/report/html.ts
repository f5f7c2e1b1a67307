import { afterText, showValue, type HostReport, type RunReport } from './model.js';

/**
 * One self-contained page (no scripts, no outside resources): totals, a row per host, and per host its playbooks,
 * steps before → after, the step timeline, rollback notes and revert tasks still on the host. Every text from a
 * journal or a host is escaped. Counts carry data attributes (`data-total="succeeded"`) so a test can read them.
 */
export function renderHtml(r: RunReport): string {
  const totals = Object.entries(r.totals).filter(([k, n]) => k === 'hosts' || n > 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>rdpfix ${esc(r.mode)} ${esc(r.runId)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f23;max-width:1200px}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}h3{font-size:1rem;margin:1rem 0 .3rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.n{font-size:1.3rem;font-weight:600}code,.v{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.state{font-weight:600}.succeeded,.unchanged,.planned{color:#1a7f37}.failed,.failed-rolled-back,.rollback-incomplete,.unknown{color:#cf222e}
.rolled-back,.irreversible-kept,.stopped,.not-reached,.unfixed{color:#9a6700}.healthy{color:#1a7f37}details{margin:.4rem 0 1rem}summary{cursor:pointer}
.meta td:first-child{color:#57606a}.warn{color:#9a6700}
</style></head><body>
<h1>rdpfix ${esc(r.mode)}: run <code>${esc(r.runId)}</code> — <span class="state" data-run-status="${esc(r.status)}">${esc(r.status)}</span></h1>
<table class="meta"><tr><td>started</td><td>${esc(r.started)}</td></tr><tr><td>last record</td><td>${esc(r.lastTime)}</td></tr>
<tr><td>inventory</td><td><code>${esc(r.inventory)}</code></td></tr>${r.controller ? `<tr><td>controller</td><td>${esc(r.controller)}</td></tr>` : ''}
<tr><td>rdpfix</td><td>${esc(r.version)}</td></tr><tr><td>report made</td><td>${esc(r.generated)}</td></tr></table>
<h2>Totals</h2>
<table><tr>${totals.map(([k]) => `<th>${esc(k)}</th>`).join('')}</tr>
<tr>${totals.map(([k, n]) => `<td class="n ${esc(k)}" data-total="${esc(k)}">${n}</td>`).join('')}</tr></table>
<h2>Hosts</h2>
<table><tr><th>host</th><th>state</th><th>playbooks</th><th>left unfixed</th><th>revert tasks on host</th></tr>
${r.hosts.map((h) => `<tr data-host="${esc(h.host)}" data-state="${esc(h.state)}"><td><a href="#${anchor(h.host)}">${esc(h.host)}</a></td><td class="state ${esc(h.state)}">${esc(h.state)}</td>
<td>${h.playbooks.map((p) => `${esc(p.playbook)}: ${esc(p.rollbackOutcome ?? p.outcome ?? 'not finished')}`).join('<br>')}</td>
<td>${h.unfixed.map((u) => `${esc(u.cause)} (${esc(u.why)})`).join('<br>')}</td><td>${h.playbooks.flatMap((p) => p.revertTasksLeft.map((s) => `${esc(p.playbook)}/${esc(s)}`)).join('<br>')}</td></tr>`).join('\n')}
</table>
${r.hosts.map(hostSection).join('\n')}
</body></html>
`;
}

function hostSection(h: HostReport): string {
  return `<h2 id="${anchor(h.host)}">${esc(h.host)} — <span class="state ${esc(h.state)}">${esc(h.state)}</span></h2>
${h.unfixed.length ? `<p>Left unfixed: ${h.unfixed.map((u) => `<b>${esc(u.cause)}</b> (${esc(u.why)})`).join('; ')}</p>` : ''}
${h.playbooks.map((p) => `<h3>${esc(p.playbook)}: ${esc(p.outcome ?? 'not finished')}${p.rollbackOutcome ? `, rollback: ${esc(p.rollbackOutcome)}` : ''}</h3>
${p.failure ? `<p class="failed">Failed at ${esc(p.failure.step)} (${esc(p.failure.phase)}): ${esc(p.failure.category)}: ${esc(p.failure.message)}</p>` : ''}
${p.notes.map((n) => `<p class="warn">${esc(n)}</p>`).join('')}
${p.revertTasksLeft.length ? `<p class="warn">Revert tasks still on the host: ${p.revertTasksLeft.map(esc).join(', ')}</p>` : ''}
<table><tr><th>step</th><th>before</th><th>after</th><th>warnings</th></tr>
${p.steps.map((s) => `<tr><td>${esc(s.step)}${s.action ? ` <i>(${esc(s.action)})</i>` : ''}</td><td class="v">${esc(showValue(s.before))}</td><td class="v">${esc(afterText(s))}</td><td class="warn">${s.warnings.map(esc).join('<br>')}</td></tr>`).join('\n')}
</table>
<details><summary>Timeline (${p.steps.reduce((n, s) => n + s.events.length, 0)} events)</summary><table><tr><th>time</th><th>step</th><th>event</th><th>detail</th></tr>
${p.steps.flatMap((s) => s.events.map((e) => ({ s, e }))).sort((a, b) => a.e.time.localeCompare(b.e.time)).map(({ s, e }) => `<tr><td>${esc(e.time)}</td><td>${esc(s.step)}</td><td>${esc(e.event)}</td><td>${esc(e.detail ?? '')}</td></tr>`).join('\n')}
</table></details>`).join('\n')}`;
}

const anchor = (host: string) => `host-${host.replace(/[^A-Za-z0-9_.-]/g, '_')}`;

/** HTML text and attribute escaping; control characters shown as `\xNN` (journal and host text is untrusted). */
export function esc(text: string): string {
  return text
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
