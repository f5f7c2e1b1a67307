import { describe, expect, it } from 'vitest';
import { chooseView, wantsColour } from '../../src/cli/views/choose.js';
import { plainView } from '../../src/cli/views/plain.js';
import { ndjsonView } from '../../src/cli/views/ndjson.js';
import { EVENT_SCHEMA, EventStream, engineEvent, eventsOfRecord, type EngineEvent } from '../../src/engine/events.js';
import type { JournalRecord } from '../../src/journal/records.js';
import { JSON_SCHEMA_VERSION, schemaId } from '../../src/json-schema.js';
import { REPORT_SCHEMA } from '../../src/report/model.js';
import { INVENTORY_SHOW_SCHEMA } from '../../src/cli/commands/inventory.action.js';

const tty = { isTTY: true };
const pipe = { isTTY: false };
const sink = () => {
  let text = '';
  return { stream: { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream, text: () => text };
};
/** A clock that moves 1.5 s a call, from an arbitrary start (nothing here depends on the date). */
const clock = () => {
  let t = Date.UTC(2031, 4, 6, 7, 8, 9);
  return () => new Date((t += 1500));
};

describe('choosing the progress view', () => {
  it('takes the listr2 view only on a terminal, outside CI, without --plain, --quiet or --json', () => {
    expect(chooseView({}, tty, {})).toBe('listr');
    expect(chooseView({}, pipe, {})).toBe('plain');
    expect(chooseView({}, tty, { CI: 'true' })).toBe('plain');
    expect(chooseView({}, tty, { CI: '1' })).toBe('plain');
    expect(chooseView({}, tty, { CI: 'false' })).toBe('listr');
    expect(chooseView({}, tty, { CI: '' })).toBe('listr');
    expect(chooseView({ plain: true }, tty, {})).toBe('plain');
    expect(chooseView({ quiet: true }, tty, {})).toBe('quiet');
    expect(chooseView({ quiet: true }, pipe, { CI: 'true' })).toBe('quiet');
    expect(chooseView({ json: true, quiet: true }, tty, {})).toBe('ndjson');
  });

  it('colours only a terminal, and never with NO_COLOR set to something', () => {
    expect(wantsColour(tty, {})).toBe(true);
    expect(wantsColour(tty, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour(tty, { NO_COLOR: '' })).toBe(true);
    expect(wantsColour(pipe, {})).toBe(false);
  });
});

describe('the event stream', () => {
  it('derives events from journal records: warnings of a step result become their own events', () => {
    const r = { seq: 7, time: 'x', type: 'step-verified', host: 'h', playbook: 'p', step: 's', left: null, result: { warnings: ['session 3 survived logoff; reset with rwinsta'] } } as unknown as JournalRecord;
    expect(eventsOfRecord(r)).toEqual([
      { type: 'step-verified', host: 'h', playbook: 'p', step: 's', reconciled: false },
      { type: 'warning', host: 'h', playbook: 'p', step: 's', message: 'session 3 survived logoff; reset with rwinsta' },
    ]);
    expect(eventsOfRecord({ seq: 8, time: 'x', type: 'step-checkpoint', host: 'h', playbook: 'p', step: 's', state: {} } as unknown as JournalRecord)).toEqual([]);
  });

  it('stamps each event with its schema, wall time and time since the command began; each fits the schema', () => {
    const seen: EngineEvent[] = [];
    const stream = new EventStream(clock()).subscribe((e) => seen.push(e));
    stream.emit({ type: 'diagnosis-started', hosts: 2 });
    stream.activity({ type: 'waiting', host: 'h', playbook: 'p', step: 's', phase: 'apply', seconds: 5 });
    expect(seen.map((e) => [e.schema, e.elapsedMs])).toEqual([[EVENT_SCHEMA, 1500], [EVENT_SCHEMA, 3000]]);
    for (const e of seen) expect(engineEvent.safeParse(e).success).toBe(true);
    expect(engineEvent.safeParse({ ...seen[1], seconds: 0 }).success).toBe(false);
    expect(engineEvent.safeParse({ ...seen[1], schema: 'rdpfix.event/0' }).success).toBe(false);
  });

  it('NDJSON: one document per line', () => {
    const out = sink();
    const stream = new EventStream(clock()).subscribe(ndjsonView(out.stream));
    stream.emit({ type: 'host-started', host: 'a', playbooks: ['p'] });
    stream.emit({ type: 'host-finished', host: 'a', outcome: 'succeeded', failed: null });
    const lines = out.text().split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((l) => JSON.parse(l).type)).toEqual(['host-started', 'host-finished']);
  });
});

describe('plain lines', () => {
  it('one line per event with the elapsed time, waits, warnings, revert tasks and the counts; no colour when asked', () => {
    const out = sink();
    const s = new EventStream(clock()).subscribe(plainView(out.stream, { colour: false }));
    s.emit({ type: 'run-started', runId: '20310506-070809-abcdef', mode: 'apply', hosts: ['a', 'b'] });
    s.emit({ type: 'host-started', host: 'a', playbooks: ['p'] });
    s.emit({ type: 'waiting', host: 'a', playbook: 'p', step: 'restart', phase: 'apply', seconds: 12 });
    s.emit({ type: 'warning', host: 'a', playbook: 'p', step: 'logoff', message: 'session 3 survived logoff; reset with rwinsta' });
    s.emit({ type: 'revert-task', host: 'a', playbook: 'p', step: 'nla', task: 't', state: 'armed', dueUtc: '2031-05-06T07:40:00Z' });
    s.emit({ type: 'step-verified', host: 'a', playbook: 'p', step: 'restart', reconciled: false });
    s.emit({ type: 'host-finished', host: 'a', outcome: 'succeeded', failed: null });
    s.emit({ type: 'host-finished', host: 'b', outcome: 'rolledBack', failed: 'p' });
    const lines = out.text().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ +\+1\.5s {2}apply run 20310506-070809-abcdef on 2 host\(s\)$/);
    expect(out.text()).toContain('a / p / restart: waiting on apply 12s');
    expect(out.text()).toContain('a / p / logoff: warning: session 3 survived logoff; reset with rwinsta');
    expect(out.text()).toContain('a / p / nla: revert task armed (fires 2031-05-06T07:40:00Z)');
    expect(lines.at(-1)).toMatch(/b: rolledBack {2}\[2\/2 done · 1 changed · 0 unchanged · 0 failed · 1 rolled back\]$/);
    expect(out.text()).not.toMatch(/\x1b/);
  });
});

describe('JSON documents', () => {
  it('name their kind and version in one field, from one constant', () => {
    expect(schemaId('run-summary')).toBe(`rdpfix.run-summary/${JSON_SCHEMA_VERSION}`);
    expect([REPORT_SCHEMA, INVENTORY_SHOW_SCHEMA, EVENT_SCHEMA]).toEqual(['rdpfix.report/1', 'rdpfix.inventory-show/1', 'rdpfix.event/1']);
  });
});

describe('the counts line', () => {
  it('counts hosts Ctrl-C stopped between steps apart from failures, and carries a note for the whole run', async () => {
    const { FleetTally } = await import('../../src/cli/views/tally.js');
    const tally = new FleetTally();
    tally.reset(3);
    const finished = (host: string, outcome: 'succeeded' | 'stopped' | 'rollbackFailed') => tally.see({ type: 'host-finished', host, outcome, failed: null } as EngineEvent);
    finished('a', 'succeeded');
    finished('b', 'stopped');
    expect(tally.line()).toBe('2/3 done · 0 changed · 1 unchanged · 0 failed · 0 rolled back · 1 stopped');
    tally.note = 'stopping (Ctrl-C)';
    finished('c', 'rollbackFailed');
    expect(tally.line()).toBe('3/3 done · 0 changed · 1 unchanged · 1 failed · 0 rolled back · 1 stopped — stopping (Ctrl-C)');
  });
});
