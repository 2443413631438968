import { randomBytes } from 'node:crypto';
import type { Buffer } from 'node:buffer';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { CustodyOperationError, type CustodyLogger } from '../port.js';

export const ROOT_KEY_BYTES = 32;

/**
 * Loads the software root (master) key, creating it at first start. The file is the one secret
 * that protects every stored key, so a file others can read is refused rather than used.
 */
export async function loadOrCreateRootKey(path: string, logger?: CustodyLogger): Promise<Buffer> {
  if (await createRootKeyFile(path)) {
    logger?.log(`Created software root key file ${path} (mode 0600)`);
  }
  // Checked after creation too: the mode we asked for is not proof of the mode we got.
  await assertOwnerOnly(path);
  return readRootKey(path);
}

/** Returns false when the file already exists ('wx' makes creation atomic against a second starter). */
async function createRootKeyFile(path: string): Promise<boolean> {
  const key = randomBytes(ROOT_KEY_BYTES);
  try {
    await writeFile(path, key, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    throw new CustodyOperationError(`Cannot create root key file ${path}`, error);
  } finally {
    key.fill(0);
  }
}

async function assertOwnerOnly(path: string): Promise<void> {
  const info = await stat(path);
  if (!info.isFile()) {
    throw new CustodyOperationError(`Root key ${path} is not a regular file`);
  }
  // POSIX permission bits mean nothing on Windows, where access is governed by ACLs instead.
  if (process.platform === 'win32') return;
  const groupOrWorld = info.mode & 0o077;
  if (groupOrWorld !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
    throw new CustodyOperationError(
      `Refusing to start: root key file ${path} has mode ${mode} and is accessible to group or others; ` +
        `restrict it with "chmod 600 ${path}"`,
    );
  }
}

async function readRootKey(path: string): Promise<Buffer> {
  const key = await readFile(path);
  if (key.length !== ROOT_KEY_BYTES) {
    key.fill(0);
    throw new CustodyOperationError(
      `Root key file ${path} holds ${key.length} bytes, expected ${ROOT_KEY_BYTES}: ` +
        'it is damaged or not a keyledger root key',
    );
  }
  return key;
}

function isErrno(error: unknown, code: string): boolean {
  // Not `instanceof Error`: errors from node's own modules fail that check inside jest's sandbox.
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}
