import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The folder holding rdpfix's package.json, whether running from src/ (vitest) or dist/src/. */
export function projectRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('rdpfix: cannot find its own package.json');
    dir = up;
  }
  root = dir;
  return dir;
}

export const brokerModulePath = () => path.join(projectRoot(), 'src', 'broker', 'ps', 'RdpfixBroker.psm1');
export const labModulePath = () => path.join(projectRoot(), 'src', 'lab', 'ps', 'RdpfixLab.psm1');
