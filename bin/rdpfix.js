#!/usr/bin/env -S node --max-semi-space-size=1
// --max-semi-space-size=1: V8's young generation stays at 1 MiB a half instead of growing to 16. rdpfix's garbage is
// short-lived and small (a message per call); the default let node's RSS grow by 30–40 MiB on a 200-host apply at no
// gain in speed (docs/performance.md). It takes effect only as a start flag: on the installed `rdpfix` command (npm
// links this file and honours the line above, on Windows too) and on `npm run …` scripts that start this file.
import('../dist/src/cli/main.js').then((m) => m.main(process.argv));
