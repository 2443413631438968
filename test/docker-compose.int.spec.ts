import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * docker-compose.yml is validated by Compose itself, which needs no Docker engine for `config`:
 * the v2 plugin (`docker compose`) or Debian's `docker-compose` 1.29. Then the resolved file is
 * checked for what the deployment relies on.
 */
const ROOT = join(__dirname, '..');
const run = promisify(execFile);

const composeCommand = (): string[] | null => {
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    try {
      execFileSync(candidate[0]!, [...candidate.slice(1), 'version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not installed, or `docker` without the compose plugin: try the next one
    }
  }
  return null;
};

const compose = composeCommand();
const describeWithCompose = compose ? describe : describe.skip;

describeWithCompose('docker-compose.yml (skipped when neither `docker compose` nor `docker-compose` is installed)', () => {
  let resolved: string;
  beforeAll(async () => {
    const [command, ...args] = compose!;
    const env = { ...process.env, KEYLEDGER_STORE: '', KEYLEDGER_ADMIN_TOKEN: '' };
    resolved = (await run(command!, [...args, '-f', join(ROOT, 'docker-compose.yml'), 'config'], { cwd: ROOT, env })).stdout;
  });

  it('is accepted by Compose', async () => {
    const [command, ...args] = compose!;
    await expect(run(command!, [...args, '-f', join(ROOT, 'docker-compose.yml'), 'config', '--quiet'], { cwd: ROOT })).resolves.toBeDefined();
    expect(resolved).toMatch(/^services:/m);
  });

  it('pins the EventStoreDB image and runs it in the insecure dev mode it states', () => {
    expect(resolved).toMatch(/image: eventstore\/eventstore:\d+\.\d+\.\d+-\S+/);
    expect(resolved).not.toMatch(/image: \S+:latest/);
    expect(resolved).toMatch(/EVENTSTORE_INSECURE: ['"]?true/);
  });

  it('builds keyledger from the Dockerfile and wires it to both stores, on PostgreSQL by default', () => {
    expect(resolved).toMatch(/keyledger:\n\s+build:\n\s+context: \S+/);
    expect(resolved).toMatch(/KEYLEDGER_STORE: postgres/);
    expect(resolved).toMatch(/KEYLEDGER_PG_URL: postgres:\/\/keyledger:\S+@postgres:5432\/keyledger/);
    expect(resolved).toMatch(/KEYLEDGER_ESDB_URL: esdb:\/\/eventstore:2113\?tls=false/);
    expect(resolved.match(/condition: service_healthy/g)).toHaveLength(2);
  });
});
