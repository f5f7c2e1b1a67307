// `node --import ./scripts/record-imports.mjs …`: appends every module URL the program resolves to $RDPFIX_IMPORT_LOG,
// one per line. Used to prove `--help` loads no engine (test/unit/help-light.test.ts) and by scripts/bench-help.mjs.
import { register } from 'node:module';

if (process.env.RDPFIX_IMPORT_LOG) {
  register('data:text/javascript,' + encodeURIComponent(`
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      appendFileSync(${JSON.stringify(process.env.RDPFIX_IMPORT_LOG)}, r.url + '\\n');
      return r;
    }`));
}
