/**
 * A JSON document whose one large array (a fleet's hosts) is serialised an item at a time: the text is exactly
 * `JSON.stringify(doc, null, indent)` with the array in place under `key`, but it is handed to `write` in pieces of
 * about `chunk` characters, so neither the document's text nor (with a lazy `items`) all its items exist at once.
 */
export function writeJsonWithArray(
  write: (text: string) => void,
  doc: Record<string, unknown>,
  key: string,
  items: Iterable<unknown>,
  o: { indent?: number; chunk?: number } = {},
): void {
  const indent = o.indent ?? 0;
  const chunk = o.chunk ?? 64 * 1024;
  let pending = '';
  const out = (text: string) => {
    pending += text;
    if (pending.length >= chunk) {
      write(pending);
      pending = '';
    }
  };
  const nl = indent ? '\n' : '';
  const pad = ' '.repeat(indent);
  // Nested text gets the indentation of its depth, as JSON.stringify's own would (strings hold no raw newline).
  const nested = (value: unknown, depth: number) => {
    const text = JSON.stringify(value, null, indent);
    return indent ? text.replaceAll('\n', `\n${pad.repeat(depth)}`) : text;
  };
  const sep = indent ? ': ' : ':';
  // JSON.stringify leaves out members whose value it cannot write (undefined, functions, symbols).
  const members = Object.entries({ ...doc, [key]: [] }).filter(([k, v]) => k === key || JSON.stringify(v) !== undefined);
  out('{');
  members.forEach(([k, v], i) => {
    out(`${i ? ',' : ''}${nl}${pad}${JSON.stringify(k)}${sep}`);
    if (k !== key) return out(nested(v, 1));
    let n = 0;
    for (const item of items) out(`${n++ ? ',' : '['}${nl}${pad.repeat(2)}${JSON.stringify(item) === undefined ? 'null' : nested(item, 2)}`);
    out(n ? `${nl}${pad}]` : '[]');
  });
  out(members.length ? `${nl}}` : '}');
  if (pending) write(pending);
}
