/**
 * How a command shows its progress. NDJSON on stdout with --json (stdout is then a stream of documents); nothing
 * with --quiet; the listr2 view when stderr is a terminal; otherwise (a pipe, a CI log, --plain) one plain line per
 * event. CI is recognised by the `CI` variable most CI systems set (GitHub Actions, GitLab, Azure Pipelines, …).
 */
export type ViewKind = 'ndjson' | 'quiet' | 'plain' | 'listr';

export interface ViewFlags {
  json?: boolean;
  quiet?: boolean;
  plain?: boolean;
}

export function chooseView(flags: ViewFlags, stderr: { isTTY?: boolean }, env: NodeJS.ProcessEnv): ViewKind {
  if (flags.json) return 'ndjson';
  if (flags.quiet) return 'quiet';
  if (flags.plain || !stderr.isTTY || isCi(env)) return 'plain';
  return 'listr';
}

/** `CI` set to anything but an empty string or "false". */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== '' && ci.toLowerCase() !== 'false' && ci !== '0';
}

/** Colour unless NO_COLOR is set to something (https://no-color.org) or the stream is not a terminal. */
export function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return !!stream.isTTY && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '');
}
