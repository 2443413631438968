import {
  CustodianAccessDeniedError,
  CustodianUnavailableError,
  CustodyOperationError,
  DecryptionFailedError,
} from '@keyledger/custody';

/** The return values we act on (PKCS#11 v2.40 §11.1). */
export const CKR = {
  GENERAL_ERROR: 0x05,
  DEVICE_ERROR: 0x30,
  DEVICE_MEMORY: 0x31,
  DEVICE_REMOVED: 0x32,
  ENCRYPTED_DATA_INVALID: 0x40,
  ENCRYPTED_DATA_LEN_RANGE: 0x41,
  OBJECT_HANDLE_INVALID: 0x82,
  PIN_INCORRECT: 0xa0,
  PIN_LOCKED: 0xa4,
  SESSION_CLOSED: 0xb0,
  SESSION_HANDLE_INVALID: 0xb3,
  TOKEN_NOT_PRESENT: 0xe0,
  UNWRAPPING_KEY_HANDLE_INVALID: 0xf0,
  USER_ALREADY_LOGGED_IN: 0x100,
  USER_NOT_LOGGED_IN: 0x101,
  WRAPPED_KEY_INVALID: 0x110,
  WRAPPED_KEY_LEN_RANGE: 0x112,
  CRYPTOKI_ALREADY_INITIALIZED: 0x191,
} as const;

/**
 * The code of an error raised by pkcs11js, or null. Duck-typed: under jest, errors from a native
 * module fail `instanceof` checks across module registries.
 */
export function ckrOf(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'number' && typeof message === 'string' && message.startsWith('CKR_')) return code;
  return null;
}

export function ckrName(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.startsWith('CKR_') ? message : 'unknown error';
}

/** The session (or the login it carried) is gone: open a fresh one and try again. */
export function isSessionLost(error: unknown): boolean {
  const code = ckrOf(error);
  return (
    code === CKR.SESSION_HANDLE_INVALID ||
    code === CKR.SESSION_CLOSED ||
    code === CKR.USER_NOT_LOGGED_IN ||
    code === CKR.DEVICE_REMOVED ||
    code === CKR.TOKEN_NOT_PRESENT ||
    code === CKR.DEVICE_ERROR
  );
}

/**
 * SoftHSM2 answers a GCM tag mismatch with CKR_GENERAL_ERROR, others with
 * CKR_ENCRYPTED_DATA_INVALID; a KWP integrity failure is CKR_WRAPPED_KEY_INVALID or, again,
 * CKR_GENERAL_ERROR. In a decrypt or unwrap all of them mean: not this key, or altered bytes.
 */
export function isAuthenticationFailure(error: unknown): boolean {
  const code = ckrOf(error);
  return (
    code === CKR.GENERAL_ERROR ||
    code === CKR.ENCRYPTED_DATA_INVALID ||
    code === CKR.ENCRYPTED_DATA_LEN_RANGE ||
    code === CKR.WRAPPED_KEY_INVALID ||
    code === CKR.WRAPPED_KEY_LEN_RANGE
  );
}

/** Our typed error for a failed token call. The message names the call and the CKR, never data. */
export function custodyErrorOf(error: unknown, call: string, materialRef?: string): Error {
  if (materialRef !== undefined && isAuthenticationFailure(error)) return new DecryptionFailedError(materialRef);
  const code = ckrOf(error);
  if (code === null) return error instanceof Error ? error : new CustodyOperationError(`PKCS#11 ${call} failed`, error);
  const message = `PKCS#11 ${call} failed: ${ckrName(error)}`;
  if (code === CKR.PIN_INCORRECT || code === CKR.PIN_LOCKED || code === CKR.USER_NOT_LOGGED_IN) {
    return new CustodianAccessDeniedError(message);
  }
  if (isSessionLost(error) || code === CKR.DEVICE_MEMORY) return new CustodianUnavailableError(message);
  return new CustodyOperationError(message);
}
