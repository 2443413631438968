/**
 * The audit checkpoint signer in a PKCS#11 token: an Ed25519 key pair (CKM_EC_EDWARDS_KEY_PAIR_GEN)
 * kept as persistent token objects, the private key sensitive and non-extractable, signing with
 * CKM_EDDSA (pure Ed25519, RFC 8032). Only the public key leaves the token. Ed25519 is
 * deterministic, so a signature made here is the one node:crypto would make with the same key and
 * verifies with the audit library's verifier unchanged.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { keyIdOf, SigningKeyError, verifyEd25519, type CheckpointSigner } from '@keyledger/audit';
import { CustodyOperationError } from '@keyledger/custody';
import { CKR, ckrOf, custodyErrorOf } from './pkcs11-errors.js';
import { SessionPool } from './session-pool.js';

type Handle = pkcs11js.Handle;

/** PKCS#11 3.0 values, missing from the pkcs11js 2.1 typings and constants. */
export const CKK_EC_EDWARDS = 0x40;
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
export const CKM_EDDSA = 0x1057;
/** CKA_EC_PARAMS for Ed25519: the DER of its OID 1.3.101.112 (RFC 8410). SoftHSM2 also takes PrintableString "edwards25519". */
export const ED25519_EC_PARAMS = Buffer.from('06032b6570', 'hex');

/** The CKA_LABEL of the audit signing key pair on the token. */
export const AUDIT_SIGNING_KEY_LABEL = 'keyledger-audit-signing';

const SIGNATURE_BYTES = 64;
const SELF_TEST = Buffer.from('keyledger/audit-signer/self-test/v1');

export interface SignerLogger {
  log(message: string): void;
}

export interface Pkcs11CheckpointSignerOptions {
  readonly modulePath: string;
  readonly tokenLabel: string;
  /** Read from KEYLEDGER_PKCS11_PIN_FILE by the caller; never logged. */
  readonly pin: string;
  /** CKA_LABEL of the key pair (default `keyledger-audit-signing`). */
  readonly keyLabel?: string;
  readonly logger?: SignerLogger;
}

/** How an already open token (the custodian's) lends its module and sessions to the signer. */
export interface SharedToken {
  readonly module: pkcs11js.PKCS11;
  readonly pool: SessionPool;
  readonly tokenLabel: string;
}

/** The token offers no Ed25519 (CKM_EC_EDWARDS_KEY_PAIR_GEN and CKM_EDDSA): the caller decides whether to sign elsewhere. */
export class EddsaUnsupportedError extends SigningKeyError {
  constructor(tokenLabel: string) {
    super(`PKCS#11 token "${tokenLabel}" offers no Ed25519 (CKM_EC_EDWARDS_KEY_PAIR_GEN and CKM_EDDSA)`);
    this.name = 'EddsaUnsupportedError';
  }
}

interface KeyPair {
  readonly id: Buffer;
  readonly publicKey: Buffer;
}

export class Pkcs11CheckpointSigner implements CheckpointSigner {
  readonly algorithm = 'Ed25519' as const;
  readonly keyId: string;
  readonly label: string;

  private constructor(
    private readonly token: SharedToken,
    private readonly pair: KeyPair,
    keyLabel: string,
    /** Runs at close: the sessions and C_Finalize when the signer opened the module itself; nothing when it borrowed them. */
    private readonly release: () => void,
  ) {
    this.keyId = keyIdOf(pair.publicKey);
    this.label = `PKCS#11 Ed25519 key "${keyLabel}" on token "${token.tokenLabel}" (non-extractable)`;
  }

  get publicKey(): Buffer {
    return Buffer.from(this.pair.publicKey);
  }

  /** Opens the module itself (the CLI, or a process without a PKCS#11 custodian) and finds or creates the key pair. */
  static async open(options: Pkcs11CheckpointSignerOptions): Promise<Pkcs11CheckpointSigner> {
    return (await Pkcs11CheckpointSigner.openModule(options, true))!;
  }

  /** Like open(), but creates nothing: null when the token holds no audit signing key yet (tools that must not mint keys). */
  static async openExisting(options: Pkcs11CheckpointSignerOptions): Promise<Pkcs11CheckpointSigner | null> {
    return Pkcs11CheckpointSigner.openModule(options, false);
  }

  /** Finds or creates the key pair on a token already open (the custodian's); close() leaves the token open. */
  static async onToken(token: SharedToken, options: { keyLabel?: string; logger?: SignerLogger } = {}): Promise<Pkcs11CheckpointSigner> {
    return (await Pkcs11CheckpointSigner.attach(token, { ...options, create: true }, () => undefined))!;
  }

  private static async openModule(options: Pkcs11CheckpointSignerOptions, create: boolean): Promise<Pkcs11CheckpointSigner | null> {
    const module = new pkcs11js.PKCS11();
    try {
      module.load(options.modulePath);
    } catch {
      throw new CustodyOperationError(`Cannot load the PKCS#11 module ${options.modulePath}`);
    }
    // Cryptoki is initialized once per process: if a custodian of this process did it, it also finalizes.
    let owner = true;
    try {
      module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (error) {
      if (ckrOf(error) !== CKR.CRYPTOKI_ALREADY_INITIALIZED) throw custodyErrorOf(error, 'C_Initialize');
      owner = false;
    }
    const finalize = (): void => {
      if (!owner) return;
      try {
        module.C_Finalize();
      } catch {
        // already finalized
      }
    };
    let pool: SessionPool | undefined;
    try {
      const slot = module.C_GetSlotList(true).find((candidate) => module.C_GetTokenInfo(candidate).label.trim() === options.tokenLabel);
      if (slot === undefined) throw new CustodyOperationError(`No PKCS#11 token labelled "${options.tokenLabel}" is present`);
      const opened = new SessionPool(module, slot, options.pin, 2);
      pool = opened;
      const release = (): void => {
        opened.close();
        finalize();
      };
      const signer = await Pkcs11CheckpointSigner.attach({ module, pool: opened, tokenLabel: options.tokenLabel }, { ...options, create }, release);
      if (signer === null) release();
      return signer;
    } catch (error) {
      pool?.close();
      finalize();
      throw error;
    }
  }

  private static async attach(
    token: SharedToken,
    options: { keyLabel?: string; logger?: SignerLogger; create: boolean },
    release: () => void,
  ): Promise<Pkcs11CheckpointSigner | null> {
    const keyLabel = options.keyLabel ?? AUDIT_SIGNING_KEY_LABEL;
    const pair = await onTokenCall(token, 'audit signing key', async (session) => {
      const mechanisms = token.module.C_GetMechanismList(token.module.C_GetSessionInfo(session).slotID);
      if (!mechanisms.includes(CKM_EDDSA) || !mechanisms.includes(CKM_EC_EDWARDS_KEY_PAIR_GEN)) throw new EddsaUnsupportedError(token.tokenLabel);
      const found = findPair(token.module, session, keyLabel);
      if (found !== undefined || !options.create) return { pair: found, created: false };
      return { pair: await createPair(token.module, session, keyLabel), created: true };
    });
    if (pair.pair === undefined) return null;
    const signer = new Pkcs11CheckpointSigner(token, pair.pair, keyLabel, release);
    if (pair.created) options.logger?.log(`Created audit signing key ${signer.label}, key id ${signer.keyId}`);
    // A key that is not the Ed25519 key its public half says it is must never sign a checkpoint.
    if (!verifyEd25519(signer.pair.publicKey, SELF_TEST, await signer.sign(SELF_TEST))) {
      throw new SigningKeyError(`The audit signing key "${keyLabel}" on token "${token.tokenLabel}" failed its self-test: its signature does not verify with its public key`);
    }
    return signer;
  }

  async sign(message: Buffer): Promise<Buffer> {
    // pkcs11js passes an empty buffer as NULL: SoftHSM2 answers CKR_ARGUMENTS_BAD and keeps the
    // sign operation active on the session. Checkpoint heads and manifests are never empty.
    if (message.length === 0) throw new SigningKeyError('The PKCS#11 audit signer does not sign empty messages');
    return onTokenCall(this.token, 'C_Sign (CKM_EDDSA)', async (session) => {
      // Found again each time: object handles do not outlive a lost session on every token.
      const handle = findObjects(this.token.module, session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_ID, value: this.pair.id },
      ])[0];
      if (handle === undefined) throw new SigningKeyError(`The audit signing key is no longer on token "${this.token.tokenLabel}"`);
      this.token.module.C_SignInit(session, { mechanism: CKM_EDDSA }, handle);
      return this.token.module.C_SignAsync(session, message, Buffer.alloc(SIGNATURE_BYTES));
    });
  }

  async close(): Promise<void> {
    this.release();
  }
}

async function onTokenCall<T>(token: SharedToken, call: string, work: (session: Handle) => Promise<T> | T): Promise<T> {
  try {
    return await token.pool.withSession(work);
  } catch (error) {
    if (error instanceof SigningKeyError) throw error;
    throw custodyErrorOf(error, call);
  }
}

function findObjects(module: pkcs11js.PKCS11, session: Handle, template: pkcs11js.Template): Handle[] {
  module.C_FindObjectsInit(session, template);
  try {
    return module.C_FindObjects(session, 16);
  } finally {
    module.C_FindObjectsFinal(session);
  }
}

/**
 * The pair labelled `keyLabel` whose private half is present. If two processes created one at the
 * same moment, every process keeps the one with the smallest CKA_ID.
 */
function findPair(module: pkcs11js.PKCS11, session: Handle, keyLabel: string): KeyPair | undefined {
  const candidates = findObjects(module, session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
    { type: pkcs11js.CKA_LABEL, value: keyLabel },
  ])
    .map((handle) => {
      const [id, point] = module.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_ID }, { type: pkcs11js.CKA_EC_POINT }]);
      return { id: Buffer.from(id!.value), point: point!.value };
    })
    .filter(({ id }) => findObjects(module, session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_ID, value: id }]).length > 0)
    .sort((a, b) => Buffer.compare(a.id, b.id));
  const chosen = candidates[0];
  return chosen && { id: chosen.id, publicKey: rawEdwardsPoint(chosen.point) };
}

async function createPair(module: pkcs11js.PKCS11, session: Handle, keyLabel: string): Promise<KeyPair> {
  const id = randomBytes(16);
  const created = await module.C_GenerateKeyPairAsync(
    session,
    { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN },
    [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_VERIFY, value: true },
      { type: pkcs11js.CKA_EC_PARAMS, value: ED25519_EC_PARAMS },
      { type: pkcs11js.CKA_LABEL, value: keyLabel },
      { type: pkcs11js.CKA_ID, value: id },
    ],
    [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_LABEL, value: keyLabel },
      { type: pkcs11js.CKA_ID, value: id },
    ],
  );
  const pair = findPair(module, session, keyLabel);
  if (pair === undefined) throw new SigningKeyError(`The audit signing key "${keyLabel}" was generated but cannot be found on the token`);
  // Another process created one at the same moment and its pair won: ours never signed anything.
  if (!pair.id.equals(id)) for (const handle of [created.privateKey, created.publicKey]) module.C_DestroyObject(session, handle);
  return pair;
}

/**
 * CKA_EC_POINT of an Edwards key: PKCS#11 3.0 says a DER OCTET STRING around the 32-byte point
 * (SoftHSM2 does that); some modules give the raw 32 bytes.
 */
export function rawEdwardsPoint(point: Buffer): Buffer {
  if (point.length === 34 && point[0] === 0x04 && point[1] === 0x20) return Buffer.from(point.subarray(2));
  if (point.length === 32) return Buffer.from(point);
  throw new SigningKeyError(`The token's Ed25519 public key (CKA_EC_POINT) has an unexpected encoding (${point.length} bytes)`);
}
