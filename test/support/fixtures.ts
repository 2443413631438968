import { execFile } from 'node:child_process';
import { generateKeyPairSync, privateDecrypt, constants, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

/** Runs the built `keyledger` CLI with the given environment. */
export const cli = async (args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string }> =>
  run(process.execPath, [join(ROOT, 'bin', 'keyledger.js'), ...args], { env: { ...process.env, ...env }, cwd: ROOT });

/** Adds a principal through the CLI, straight on the store, and returns its token. */
export const addPrincipal = async (dataDir: string, name: string, roles: string[], tenant?: string): Promise<string> => {
  const { stdout } = await cli(
    ['principals', 'add', '--name', name, '--role', ...roles, ...(tenant ? ['--tenant', tenant] : [])],
    { KEYLEDGER_DATA_DIR: dataDir },
  );
  const lines = stdout.trim().split('\n');
  return lines[lines.length - 1]!;
};

export interface RecipientKeys {
  publicKeyPem: string;
  privateKey: KeyObject;
  unwrap(wrappedBase64: string): Buffer;
}

export const recipientKeys = (): RecipientKeys => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey,
    unwrap: (wrapped) =>
      privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(wrapped, 'base64')),
  };
};

/** Every byte of every file under a folder. */
export const filesUnder = (dir: string): { path: string; bytes: Buffer }[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [{ path, bytes: readFileSync(path) }];
  });

/** The encodings a leaked secret could take: raw, hex (both cases), base64, base64url. */
export const encodingsOf = (secret: Buffer): Buffer[] => [
  secret,
  Buffer.from(secret.toString('hex')),
  Buffer.from(secret.toString('hex').toUpperCase()),
  Buffer.from(secret.toString('base64')),
  Buffer.from(secret.toString('base64url')),
];
