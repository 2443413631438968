#!/usr/bin/env node
// The `keyledger` command: runs the built CLI (`npm run build` first).
await import('../dist/apps/cli/src/main.js');
