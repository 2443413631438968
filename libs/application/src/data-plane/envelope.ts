import { Buffer } from 'node:buffer';
import { InvalidInputError, canonicalJson } from '@keyledger/domain';

/**
 * The keyledger ciphertext envelope (docs/custody.md), sent base64 on the wire:
 *
 *   offset 0  "KL"            magic
 *          2  0x01            format version
 *          3  kind            0x01 payload ciphertext, 0x02 data-key blob
 *          4  uint32 BE       key version
 *          8  uint8 L         length of the key id
 *          9  L bytes         key id (ASCII)
 *        9+L  …               the custodian's ciphertext under that key version
 *
 * The header names the key and version, so decrypt and rewrap know which version to use; it is
 * also bound into the associated data with the caller's context, so it cannot be edited.
 */
export type EnvelopeKind = 'ciphertext' | 'data-key';

/** A flat map of strings the caller binds as associated data and must present again to decrypt. */
export type EncryptionContext = Readonly<Record<string, string>>;

export interface Envelope {
  readonly kind: EnvelopeKind;
  readonly keyId: string;
  readonly version: number;
  readonly header: Buffer;
  readonly sealed: Buffer;
}

const MAGIC = Buffer.from('KL', 'ascii');
const FORMAT = 0x01;
const KIND_BYTE: Readonly<Record<EnvelopeKind, number>> = { ciphertext: 0x01, 'data-key': 0x02 };
const HEADER_FIXED = 9;
const AAD_LABEL = Buffer.from('keyledger/envelope/v1\0', 'ascii');

export function envelopeHeader(kind: EnvelopeKind, keyId: string, version: number): Buffer {
  const id = Buffer.from(keyId, 'ascii');
  const header = Buffer.alloc(HEADER_FIXED + id.length);
  MAGIC.copy(header, 0);
  header.writeUInt8(FORMAT, 2);
  header.writeUInt8(KIND_BYTE[kind], 3);
  header.writeUInt32BE(version, 4);
  header.writeUInt8(id.length, 8);
  id.copy(header, HEADER_FIXED);
  return header;
}

/** The associated data of a sealed value: the header, then the canonical (sorted-key) context. */
export function envelopeAad(header: Buffer, context: EncryptionContext | undefined): Buffer {
  return Buffer.concat([AAD_LABEL, header, Buffer.from(`\0${canonicalJson(context ?? {})}`, 'utf8')]);
}

export const sealEnvelope = (header: Buffer, sealed: Buffer): Buffer => Buffer.concat([header, sealed]);

/** Parses an envelope and checks it is of the expected kind; a bad one is the caller's input error. */
export function openEnvelope(bytes: Buffer, expected: EnvelopeKind, field: string): Envelope {
  const invalid = (why: string) => new InvalidInputError(`${field} is not a keyledger ${describe(expected)}: ${why}`, { field });
  if (bytes.length < HEADER_FIXED || !bytes.subarray(0, 2).equals(MAGIC)) throw invalid('unknown format');
  if (bytes.readUInt8(2) !== FORMAT) throw invalid(`format version ${bytes.readUInt8(2)} is not supported`);
  const kind = kindOf(bytes.readUInt8(3));
  if (kind !== expected) throw invalid(kind === null ? 'unknown kind' : `it is a ${describe(kind)}`);
  const idLength = bytes.readUInt8(8);
  const headerLength = HEADER_FIXED + idLength;
  if (bytes.length <= headerLength) throw invalid('truncated');
  const header = bytes.subarray(0, headerLength);
  return {
    kind,
    keyId: header.subarray(HEADER_FIXED).toString('ascii'),
    version: bytes.readUInt32BE(4),
    header,
    sealed: bytes.subarray(headerLength),
  };
}

function kindOf(byte: number): EnvelopeKind | null {
  if (byte === KIND_BYTE.ciphertext) return 'ciphertext';
  if (byte === KIND_BYTE['data-key']) return 'data-key';
  return null;
}

function describe(kind: EnvelopeKind): string {
  switch (kind) {
    case 'ciphertext':
      return 'ciphertext';
    case 'data-key':
      return 'data-key blob';
    default: {
      const _exhaustive: never = kind;
      return _exhaustive;
    }
  }
}
