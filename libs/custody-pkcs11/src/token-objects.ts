import { Buffer } from 'node:buffer';
import pkcs11js from 'pkcs11js';
import type { ManagedKeyPurpose } from '@keyledger/custody';

type Handle = pkcs11js.Handle;

/** RFC 5649 AES key wrap with padding (the constant is missing from older pkcs11js typings). */
export const CKM_AES_KEY_WRAP_PAD: number = pkcs11js.CKM_AES_KEY_WRAP_PAD ?? 0x210a;

/** What we record on a token object in its CKA_LABEL: who owns it, never anything secret. */
export interface TokenObjectLabel {
  readonly keyId: string;
  readonly version: number;
  readonly tenantId: string;
  readonly purpose: ManagedKeyPurpose | 'storage-root';
  /** The key recorded as its parent in the hierarchy (the token itself protects the object). */
  readonly wrappingRef: string | null;
}

export const labelBytes = (label: TokenObjectLabel): string => JSON.stringify(label);

export function parseLabel(raw: Buffer): TokenObjectLabel {
  return JSON.parse(raw.toString('utf8')) as TokenObjectLabel;
}

/**
 * A root or KEK: a persistent token object that never leaves the token. CKA_SENSITIVE and
 * CKA_EXTRACTABLE=false make reading CKA_VALUE answer CKR_ATTRIBUTE_SENSITIVE and wrapping it
 * answer CKR_KEY_UNEXTRACTABLE. CKA_SIGN allows the AES-CMAC key check value.
 */
export function residentKeyTemplate(id: string, label: TokenObjectLabel): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_ID, value: Buffer.from(id, 'utf8') },
    { type: pkcs11js.CKA_LABEL, value: labelBytes(label) },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_UNWRAP, value: true },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
    { type: pkcs11js.CKA_SIGN, value: true },
  ];
}

/**
 * A DEK while it is being generated or used: a session object (gone with the session),
 * extractable so that the KEK can wrap it. `readable` also lets us read CKA_VALUE, which the
 * data plane needs (DEKs do their AES-GCM in this process); a rewrap never reads it.
 */
export function transientDekTemplate(readable: boolean): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_SENSITIVE, value: !readable },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
  ];
}

export const generateTransientDekTemplate = (): pkcs11js.Template => [
  ...transientDekTemplate(true),
  { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
];

/** Every object on the token with this CKA_ID (a destroyed one leaves none). */
export function findById(module: pkcs11js.PKCS11, session: Handle, id: string): Handle[] {
  module.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_ID, value: Buffer.from(id, 'utf8') }]);
  try {
    return module.C_FindObjects(session, 16);
  } finally {
    module.C_FindObjectsFinal(session);
  }
}

export function readLabel(module: pkcs11js.PKCS11, session: Handle, handle: Handle): TokenObjectLabel {
  const [attribute] = module.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_LABEL }]);
  return parseLabel(attribute!.value);
}

export function readValue(module: pkcs11js.PKCS11, session: Handle, handle: Handle): Buffer {
  const [attribute] = module.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_VALUE }]);
  return attribute!.value;
}

export function gcmMechanism(iv: Buffer, aad: Buffer): pkcs11js.Mechanism {
  const parameter: pkcs11js.GcmParams = { type: pkcs11js.CK_PARAMS_AES_GCM, iv, ivBits: iv.length * 8, aad, tagBits: 128 };
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
}
