import type { RunReport } from './model.js';

/**
 * JUnit XML for CI: one test case per host × playbook (classname = host). A playbook that failed or whose rollback
 * failed is a failure; a host never reached or in an unknown state is an error; a host with findings no playbook
 * fixes gets a failing test case of its own, so CI does not show green over an unfixed host.
 */
export function renderJunit(r: RunReport): string {
  const cases: string[] = [];
  let failures = 0;
  let errors = 0;
  for (const h of r.hosts) {
    for (const p of h.playbooks) {
      const outcome = p.rollbackOutcome ?? p.outcome;
      let body = '';
      if (h.state === 'unknown' || h.state === 'not-reached' || h.state === 'stopped') {
        errors++;
        body = `<error type="${h.state}" message="${x(`host ${h.state}`)}"/>`;
      } else if (outcome && outcome !== 'succeeded' && outcome !== 'planned' && !(p.rollbackOutcome === 'rolledBack' && p.outcome === 'succeeded')) {
        failures++;
        const why = p.failure ? `${p.failure.step} (${p.failure.phase}): ${p.failure.message}` : `outcome ${outcome}`;
        body = `<failure type="${x(outcome)}" message="${x(why)}">${x([why, ...p.notes].join('\n'))}</failure>`;
      }
      cases.push(`    <testcase classname="${x(h.host)}" name="${x(p.playbook)}">${body}</testcase>`);
    }
    if (h.unfixed.length) {
      failures++;
      const why = h.unfixed.map((u) => `${u.cause} (${u.why})`).join('; ');
      cases.push(`    <testcase classname="${x(h.host)}" name="findings left unfixed"><failure type="unfixed" message="${x(why)}"/></testcase>`);
    }
  }
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="rdpfix" tests="${cases.length}" failures="${failures}" errors="${errors}">
  <testsuite name="${x(`rdpfix ${r.mode} ${r.runId}`)}" tests="${cases.length}" failures="${failures}" errors="${errors}" timestamp="${x(r.started.replace(/Z$/, ''))}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

/** XML escaping; characters XML 1.0 cannot hold at all are shown as \xNN. */
function x(text: string): string {
  return text
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
