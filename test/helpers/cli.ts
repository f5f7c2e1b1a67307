import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/paths.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`npm test` builds first) as a user would, in a child process. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(projectRoot(), 'bin', 'rdpfix.js'), ...args], {
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    if (options.input !== undefined) child.stdin!.end(options.input);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The summary document of plan/apply/rollback/resume `--json`: the last line of stdout (the lines before it are the
 * run's events, NDJSON).
 */
export function summaryOf(stdout: string): any {
  const lines = stdout.split('\n').filter((l) => l.trim());
  return JSON.parse(lines.at(-1) ?? 'null');
}

/** The events before the summary line. */
export function eventsOf(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter((l) => l.trim()).slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
}
