import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, recipientKeys } from './support/fixtures.js';

/** The `keyledger` command as an operator runs it: `serve` in one terminal, verbs in another. */
describe('keyledger CLI', () => {
  let dataDir: string;
  let serverProcess: ChildProcess;
  let url: string;
  let token: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'keyledger-cli-'));
    serverProcess = spawn(process.execPath, [join(__dirname, '..', 'bin', 'keyledger.js'), 'serve'], {
      env: { ...process.env, KEYLEDGER_DATA_DIR: dataDir, KEYLEDGER_PORT: '0', KEYLEDGER_LOG_LEVEL: 'warn', KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout = await new Promise<string>((resolve, reject) => {
      let seen = '';
      serverProcess.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (/klt_\S+/.test(seen)) resolve(seen);
      });
      serverProcess.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${seen}`)));
    });
    url = /listening on (http:\/\/\S+)/.exec(stdout)![1]!;
    token = /(klt_\S+)/.exec(stdout)![1]!;
    env = { KEYLEDGER_URL: url, KEYLEDGER_TOKEN: token, KEYLEDGER_DATA_DIR: dataDir };
  });

  afterAll(async () => {
    serverProcess.kill('SIGTERM');
    await new Promise((resolve) => serverProcess.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const json = async (args: string[]) => JSON.parse((await cli(args, env)).stdout);

  it('serve prints where it listens and the generated admin token once, and creates the root key file 0600', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(token).toMatch(/^klt_[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dataDir, 'root.key')).mode & 0o777).toBe(0o600);
    const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
    expect(health.status).toBe('ok');
  });

  it('takes a KEK and a DEK through the lifecycle with the keys verbs', async () => {
    const kek = await json(['keys', 'generate', '--tenant', 'acme', '--purpose', 'kek', '--classification', 'ephi']);
    await json(['keys', 'activate', kek.id]);
    const dek = await json(['keys', 'generate', '--tenant', 'acme', '--purpose', 'dek', '--parent', kek.id]);
    expect((await json(['keys', 'activate', dek.id])).versions[0].state).toBe('active');
    const keyFile = join(dataDir, 'recipient.pem');
    const recipient = recipientKeys();
    writeFileSync(keyFile, recipient.publicKeyPem);
    const registered = await json(['recipients', 'add', '--name', 'svc', '--tenant', 'acme', '--public-key-file', keyFile]);
    const distributed = await json(['keys', 'distribute', dek.id, '--recipient', registered.id]);
    expect(recipient.unwrap(distributed.wrappedKey)).toHaveLength(32);
    expect((await json(['keys', 'rotate', dek.id])).currentVersion).toBe(2);
    expect((await json(['keys', 'suspend', dek.id])).versions[1].state).toBe('suspended');
    expect((await json(['keys', 'reactivate', dek.id])).versions[1].state).toBe('active');
    expect((await json(['keys', 'revoke', dek.id, '--reason', 'superseded'])).versions[1].state).toBe('deactivated');
    await json(['keys', 'schedule-destruction', dek.id, '--version', '1', '--days', '0']);
    await json(['keys', 'cancel-destruction', dek.id, '--version', '1']);
    await json(['keys', 'schedule-destruction', dek.id, '--version', '1', '--days', '0']);
    expect((await json(['keys', 'destroy', dek.id, '--version', '1'])).versions[0].state).toBe('destroyed');
    await json(['keys', 'deactivate', kek.id]);
    const list = await json(['keys', 'list', '--tenant', 'acme']);
    expect(list.items.map((k: any) => k.id).sort()).toEqual([kek.id, dek.id].sort());
    expect((await json(['keys', 'show', dek.id])).id).toBe(dek.id);
    const types = (await json(['keys', 'history', dek.id])).events.map((e: any) => e.type);
    expect(types).toEqual([
      'KeyGenerated', 'KeyVersionActivated', 'KeyUsed', 'KeyRotated', 'KeyVersionSuspended', 'KeyVersionReactivated',
      'KeyVersionRevoked', 'KeyDestructionScheduled', 'KeyDestructionCancelled', 'KeyDestructionScheduled', 'KeyVersionDestroyed',
    ]);
  });

  it('reports a refused command on stderr with its problem code and a non-zero exit', async () => {
    const kek = await json(['keys', 'generate', '--tenant', 'acme', '--purpose', 'kek']);
    const failure = await cli(['keys', 'suspend', kek.id], env).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('KEY.INVALID_TRANSITION');
  });

  it('adds, lists and revokes principals on the store while the server runs', async () => {
    const { stdout } = await cli(['principals', 'add', '--name', 'billing', '--role', 'service', '--tenant', 'acme'], env);
    const newToken = stdout.trim().split('\n').pop()!;
    const listed = await fetch(`${url}/v1/keys`, { headers: { authorization: `Bearer ${newToken}` } });
    expect(listed.status).toBe(200);
    const principals = await json(['principals', 'list']);
    expect(principals.map((p: any) => p.name)).toEqual(expect.arrayContaining(['bootstrap-admin', 'billing']));
    expect(JSON.stringify(principals)).not.toContain('tokenHash');
    const missingTenant = await cli(['principals', 'add', '--name', 'x', '--role', 'service'], env).catch((e: { code: number }) => e);
    expect((missingTenant as { code: number }).code).toBe(1);
  });
});
