import { readFile, stat } from 'node:fs/promises';
import { CustodyOperationError } from '@keyledger/custody';

/**
 * Reads the token PIN from its file (KEYLEDGER_PKCS11_PIN_FILE). The PIN never reaches a log or
 * an error message; a file that everyone may read is refused rather than used.
 */
export async function readPinFile(path: string): Promise<string> {
  const info = await stat(path).catch((error: unknown) => {
    throw new CustodyOperationError(`Cannot read the PKCS#11 PIN file ${path}`, codeOnly(error));
  });
  if ((info.mode & 0o004) !== 0) {
    throw new CustodyOperationError(`The PKCS#11 PIN file ${path} is readable by everyone; chmod 600 (or 640) it`);
  }
  const pin = (await readFile(path, 'utf8')).replace(/[\r\n]+$/, '');
  if (pin === '') throw new CustodyOperationError(`The PKCS#11 PIN file ${path} is empty`);
  return pin;
}

/** Only the errno code travels on: a cause's message could one day quote file content. */
function codeOnly(error: unknown): string {
  return String((error as { code?: unknown } | null)?.code ?? 'unknown');
}
