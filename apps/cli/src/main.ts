import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { ROLES, SYSTEM_ACTOR, type Principals, type Role } from '@keyledger/application';
import { ConfigurationError, loadConfig } from '../../api/src/config.js';
import { ApiError, KeyledgerClient } from './http-client.js';
import { registerBench } from './bench/bench.js';
import { registerProjectionCommands } from './projections.js';
import { registerReplayCommand } from './replay.js';
import { registerAuditCommands } from './audit.js';

const out = (value: unknown): void => {
  process.stdout.write(typeof value === 'string' ? `${value}\n` : `${JSON.stringify(value, null, 2)}\n`);
};

const program = new Command('keyledger').description('Event-sourced key lifecycle engine').showHelpAfterError();

program
  .command('serve')
  .description('run the API on the configured store and custodian')
  .action(async () => {
    // Loaded on demand: the HTTP verbs below should not pay for booting Nest.
    const { startServer } = await import('../../api/src/server.js');
    const server = await startServer(loadConfig());
    out(`keyledger listening on ${server.url}`);
    if (server.generatedAdminToken) {
      out('bootstrap admin token (shown once; store it now):');
      out(server.generatedAdminToken);
    }
    const stop = () => void server.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

/** Principals are managed directly on the configured store, with or without a server running. */
const withPrincipals = async <T>(work: (principals: Principals) => Promise<T>): Promise<T> => {
  const config = loadConfig();
  const [{ openStores }, { Principals, systemClock }] = await Promise.all([
    import('../../api/src/engine.js'),
    import('@keyledger/application'),
  ]);
  const { eventStore } = openStores(config, resolve(config.dataDir));
  try {
    return await work(new Principals(eventStore, systemClock));
  } finally {
    await eventStore.close();
  }
};

const principals = program.command('principals').description('API principals and their tokens');
principals
  .command('add')
  .description('add a principal; its token is printed once, alone on the last line')
  .requiredOption('--name <name>', 'a name for the principal')
  .addOption(new Option('--role <role...>', 'one or more roles').choices(ROLES).makeOptionMandatory())
  .option('--tenant <tenantId>', 'the tenant a service principal is bound to')
  .action(async (o: { name: string; role: Role[]; tenant?: string }) => {
    if (o.role.includes('service') && !o.tenant) throw new ConfigurationError('a service principal needs --tenant');
    const created = await withPrincipals((p) =>
      p.add({ name: o.name, roles: o.role, tenantId: o.tenant ?? null }, { actor: SYSTEM_ACTOR, correlationId: randomUUID() }),
    );
    out(created.principal);
    out(created.token);
  });
principals
  .command('list')
  .description('list principals (never their tokens)')
  .action(async () => out(await withPrincipals((p) => p.list())));
principals
  .command('revoke <principalId>')
  .description('revoke a principal: its token stops working')
  .action(async (id: string) => out(await withPrincipals((p) => p.revoke(id, { actor: SYSTEM_ACTOR, correlationId: randomUUID() }))));

principals
  .command('rotate-token <principalId>')
  .description('give a principal a new token (printed once, on the last line); the old one stops working')
  .action(async (id: string) => {
    const rotated = await withPrincipals((p) => p.rotateToken(id, { actor: SYSTEM_ACTOR, correlationId: randomUUID() }));
    out(rotated.principal);
    out(rotated.token);
  });

program
  .command('ceremony')
  .description('key ceremony helpers for witnesses')
  .command('sign')
  .description("sign a ceremony's transcript hash with a witness's Ed25519 private key (prints base64)")
  .requiredOption('--key <file>', 'the witness private key, PEM (PKCS#8)')
  .requiredOption('--hash <hex>', 'the transcriptHash shown by GET /v1/ceremonies/{id}')
  .action(async (o: { key: string; hash: string }) => {
    const { createPrivateKey, sign } = await import('node:crypto');
    if (!/^[0-9a-f]{64}$/i.test(o.hash)) throw new ConfigurationError('--hash must be 64 hex digits (a SHA-256)');
    const key = createPrivateKey(readFileSync(o.key, 'utf8'));
    if (key.asymmetricKeyType !== 'ed25519') throw new ConfigurationError('the witness key must be Ed25519');
    out(sign(null, Buffer.from(o.hash, 'hex'), key).toString('base64'));
  });

const client = (o: { url?: string; token?: string }): KeyledgerClient =>
  new KeyledgerClient(o.url ?? process.env.KEYLEDGER_URL ?? 'http://127.0.0.1:8080', o.token ?? process.env.KEYLEDGER_TOKEN);

const api = (cmd: Command): Command =>
  cmd
    .option('--url <url>', 'server URL (KEYLEDGER_URL, default http://127.0.0.1:8080)')
    .option('--token <token>', 'bearer token (KEYLEDGER_TOKEN)');

const keys = program.command('keys').description('keys and their lifecycle, over the HTTP API');
api(keys.command('list'))
  .option('--tenant <tenantId>')
  .option('--state <state>')
  .option('--at <instant>', 'the inventory as of an ISO-8601 instant')
  .action(async (o) => {
    const q = new URLSearchParams();
    if (o.tenant) q.set('tenantId', o.tenant);
    if (o.state) q.set('state', o.state);
    if (o.at) q.set('at', o.at);
    out(await client(o).get(`/v1/keys?${q}`));
  });
api(keys.command('show <keyId>'))
  .option('--at <instant>')
  .action(async (id: string, o) => out(await client(o).get(`/v1/keys/${encodeURIComponent(id)}${o.at ? `?at=${encodeURIComponent(o.at)}` : ''}`)));
api(keys.command('history <keyId>')).action(async (id: string, o) => out(await client(o).get(`/v1/keys/${encodeURIComponent(id)}/history`)));
api(keys.command('generate'))
  .requiredOption('--tenant <tenantId>')
  .requiredOption('--purpose <purpose>', 'root, kek or dek')
  .option('--parent <keyId>')
  .option('--classification <class...>')
  .option('--cryptoperiod-days <days>', 'originator-usage period in days', Number)
  .option('--label <label>')
  .action(async (o) =>
    out(
      await client(o).post(
        '/v1/keys',
        {
          tenantId: o.tenant,
          purpose: o.purpose,
          ...(o.parent ? { parentKeyId: o.parent } : {}),
          ...(o.classification ? { classifications: o.classification } : {}),
          ...(o.cryptoperiodDays ? { cryptoperiodDays: o.cryptoperiodDays } : {}),
          ...(o.label ? { label: o.label } : {}),
        },
        randomUUID(),
      ),
    ),
  );

const versionBody = (o: { version?: number }) => (o.version ? { version: o.version } : {});
for (const verb of ['activate', 'rotate', 'suspend', 'reactivate', 'deactivate', 'cancel-destruction', 'destroy']) {
  const cmd = api(keys.command(`${verb} <keyId>`)).description(`${verb} the key (its current version unless --version)`);
  if (verb !== 'rotate') cmd.option('--version <n>', 'a version number', Number);
  cmd.action(async (id: string, o) => out(await client(o).post(`/v1/keys/${encodeURIComponent(id)}/${verb}`, versionBody(o), randomUUID())));
}
api(keys.command('revoke <keyId>'))
  .addOption(new Option('--reason <reason>').choices(['compromised', 'superseded', 'cessation-of-operation', 'privilege-withdrawn']).makeOptionMandatory())
  .option('--compromised-at <instant>')
  .option('--version <n>', 'a version number', Number)
  .action(async (id: string, o) =>
    out(
      await client(o).post(
        `/v1/keys/${encodeURIComponent(id)}/revoke`,
        { reason: o.reason, ...(o.compromisedAt ? { compromisedAt: o.compromisedAt } : {}), ...versionBody(o) },
        randomUUID(),
      ),
    ),
  );
api(keys.command('schedule-destruction <keyId>'))
  .option('--days <n>', 'waiting period in days (default 7)', Number)
  .option('--version <n>', 'a version number', Number)
  .action(async (id: string, o) =>
    out(
      await client(o).post(
        `/v1/keys/${encodeURIComponent(id)}/schedule-destruction`,
        { ...(o.days !== undefined ? { waitingPeriodDays: o.days } : {}), ...versionBody(o) },
        randomUUID(),
      ),
    ),
  );
api(keys.command('distribute <keyId>'))
  .requiredOption('--recipient <recipientId>')
  .option('--version <n>', 'a version number', Number)
  .action(async (id: string, o) =>
    out(await client(o).post(`/v1/keys/${encodeURIComponent(id)}/distribute`, { recipientId: o.recipient, ...versionBody(o) }, randomUUID())),
  );

const recipients = program.command('recipients').description('recipients of distributed keys');
api(recipients.command('add'))
  .requiredOption('--name <name>')
  .requiredOption('--tenant <tenantId>')
  .requiredOption('--public-key-file <file>', 'RSA public key, PEM')
  .action(async (o) =>
    out(await client(o).post('/v1/recipients', { name: o.name, tenantId: o.tenant, publicKeyPem: readFileSync(o.publicKeyFile, 'utf8') }, randomUUID())),
  );
api(recipients.command('list')).action(async (o) => out(await client(o).get('/v1/recipients')));

registerProjectionCommands(program);
registerReplayCommand(program);
registerAuditCommands(program);

registerBench(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const message = error instanceof ApiError || error instanceof ConfigurationError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`keyledger: ${message}\n`);
  process.exit(error instanceof ApiError && error.status < 500 ? 2 : 1);
}
