/**
 * Windows PowerShell 5.1 gives System.Array an ETS alias `Count` (types.ps1xml; PowerShell 6 removed it, issue
 * #3222), so its ConvertTo-Json writes an array that reached it as one object — a [psobject]-wrapped array, an
 * array nested in a piped array, the output of `'[…]' | ConvertFrom-Json` — as `{"value":[…],"Count":n}` (issues
 * #3153, #5579; docs/windows-facts/powershell51-json.md). A host script's result holding that shape was built
 * wrongly: the array is there, but not where the reader looks. The lab turns the alias on, so tests meet it too.
 */
export function findPs51ArrayWrapper(value: unknown, path = '$'): string | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findPs51ArrayWrapper(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 2 && Array.isArray(record.value) && record.Count === record.value.length) return path;
  for (const key of keys) {
    const found = findPs51ArrayWrapper(record[key], `${path}.${key}`);
    if (found) return found;
  }
  return null;
}

/** The sentence an error about a wrapped array says. */
export function ps51ArrayWrapperMessage(what: string, at: string): string {
  return `${what} holds an array in Windows PowerShell 5.1's {"value":[…],"Count":n} shape at ${at}: the script passed that array through the pipeline as one object. Fix: build it with @(…) and pass it with -InputObject (docs/windows-facts/powershell51-json.md).`;
}
