#!/usr/bin/env node
// The `keyledger` command: runs the built CLI (`npm run build` first). The install folder is
// passed on so that the server finds the dashboard's static files from any working directory.
import { fileURLToPath } from 'node:url';

process.env.KEYLEDGER_HOME ??= fileURLToPath(new URL('..', import.meta.url));
await import('../dist/apps/cli/src/main.js');
