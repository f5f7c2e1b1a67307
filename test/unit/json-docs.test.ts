import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { eventBody } from '../../src/engine/events.js';
import { projectRoot } from '../../src/paths.js';

describe('docs/json.md', () => {
  it('lists every event type with exactly the fields its schema has', () => {
    const doc = readFileSync(path.join(projectRoot(), 'docs', 'json.md'), 'utf8');
    const rows = doc.split('\n').filter((l) => /^\| `[a-z-]+` \| `/.test(l));
    const expected = eventBody.options.map((o) => {
      const shape = o.shape as Record<string, z.ZodTypeAny>;
      const fields = Object.keys(shape).filter((k) => k !== 'type').map((k) => `\`${k}${shape[k]!.isOptional() ? '?' : ''}\``);
      return `| \`${(shape.type as z.ZodLiteral<string>).value}\` | ${fields.join(', ')} |`;
    });
    expect(rows).toEqual(expected);
  });
});
