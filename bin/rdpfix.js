#!/usr/bin/env -S node --max-semi-space-size=1
// Node's heap, kept close to what rdpfix holds (docs/performance.md, "node's heap"):
// - --max-semi-space-size=1: the young generation stays at 1 MiB a half instead of growing to 16. It takes effect only
//   as a start flag: on the installed `rdpfix` command (npm's command shims honour the line above, on Windows too).
// - heap growing 25 %: after each full collection V8 lets the old generation grow to 1.25 times what survived, not up
//   to twice or more. Set at run time, so it holds however node was started; a node whose V8 lacks the flag says so
//   on stderr and runs on unchanged.
import v8 from 'node:v8';

v8.setFlagsFromString('--heap-growing-percent=25');
import('../dist/src/cli/main.js').then((m) => m.main(process.argv));
