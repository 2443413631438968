import { loadConfig } from './config.js';
import { startServer } from './server.js';

/** `node dist/apps/api/src/main.js`: the API alone, configured from the environment. */
const server = await startServer(loadConfig());
if (server.generatedAdminToken) process.stdout.write(`bootstrap admin token (shown once): ${server.generatedAdminToken}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
