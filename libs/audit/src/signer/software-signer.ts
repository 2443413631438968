import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keyIdOf, rawPublicKey } from './ed25519.js';
import { SigningKeyError, type CheckpointSigner } from './port.js';

export const AUDIT_SIGNING_KEY_FILE = 'audit-signing.key';

export interface SignerLogger {
  log(message: string): void;
}

/**
 * Ed25519 in node:crypto with the private key in `audit-signing.key` (PKCS#8 PEM, mode 0600),
 * created at first start. Like the software custodian it is not a validated module: an HSM
 * signer keeps the key non-extractable.
 */
export class SoftwareCheckpointSigner implements CheckpointSigner {
  readonly algorithm = 'Ed25519' as const;
  readonly keyId: string;

  private constructor(
    private readonly privateKey: KeyObject,
    readonly publicKey: Buffer,
    readonly label: string,
  ) {
    this.keyId = keyIdOf(publicKey);
  }

  /** Loads the key of `dataDir`, creating it when there is none yet. */
  static async open(dataDir: string, logger?: SignerLogger): Promise<SoftwareCheckpointSigner> {
    const path = join(dataDir, AUDIT_SIGNING_KEY_FILE);
    if (await createKeyFile(path)) logger?.log(`Created audit signing key ${path} (Ed25519, mode 0600)`);
    const privateKey = await readPrivateKey(path);
    return new SoftwareCheckpointSigner(privateKey, rawPublicKey(createPublicKey(privateKey)), `software Ed25519 key ${AUDIT_SIGNING_KEY_FILE}`);
  }

  /** Loads the key of `dataDir` without creating one: null when there is none (tools that must not mint keys). */
  static async openExisting(dataDir: string): Promise<SoftwareCheckpointSigner | null> {
    const path = join(dataDir, AUDIT_SIGNING_KEY_FILE);
    try {
      const privateKey = await readPrivateKey(path);
      return new SoftwareCheckpointSigner(privateKey, rawPublicKey(createPublicKey(privateKey)), `software Ed25519 key ${AUDIT_SIGNING_KEY_FILE}`);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw error;
    }
  }

  async sign(message: Buffer): Promise<Buffer> {
    return sign(null, message, this.privateKey);
  }

  async close(): Promise<void> {
    // A KeyObject cannot be wiped; dropping the reference is all node:crypto allows.
  }
}

/** The public key of `dataDir`'s signing key, or null when none was created yet. Creates nothing. */
export async function readSoftwarePublicKey(dataDir: string): Promise<Buffer | null> {
  return (await SoftwareCheckpointSigner.openExisting(dataDir))?.publicKey ?? null;
}

/** 'wx' makes creation atomic: a second process starting at the same moment loads the first one's key. */
async function createKeyFile(path: string): Promise<boolean> {
  const { privateKey } = generateKeyPairSync('ed25519');
  try {
    await writeFile(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
    return true;
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    throw new SigningKeyError(`Cannot create the audit signing key ${path}: ${(error as Error).message}`);
  }
}

async function readPrivateKey(path: string): Promise<KeyObject> {
  await assertOwnerOnly(path);
  let key: KeyObject;
  try {
    key = createPrivateKey(await readFile(path, 'utf8'));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) throw error;
    throw new SigningKeyError(`The audit signing key ${path} is not a readable PKCS#8 private key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SigningKeyError(`The audit signing key ${path} is not an Ed25519 key`);
  return key;
}

async function assertOwnerOnly(path: string): Promise<void> {
  const info = await stat(path);
  if (!info.isFile()) throw new SigningKeyError(`The audit signing key ${path} is not a regular file`);
  // POSIX permission bits mean nothing on Windows, where access is governed by ACLs instead.
  if (process.platform === 'win32' || (info.mode & 0o077) === 0) return;
  const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
  throw new SigningKeyError(`Refusing the audit signing key ${path}: mode ${mode} lets group or others read it; restrict it with "chmod 600 ${path}"`);
}

function isErrno(error: unknown, code: string): boolean {
  // Not `instanceof Error`: errors from node's own modules fail that check inside jest's sandbox.
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}
