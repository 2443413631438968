import { Buffer } from 'node:buffer';
import { z } from 'zod';

/** Request bodies of the data plane (SPEC §8 wire names). Binary values are base64; unknown fields are refused. */
export const MAX_PLAINTEXT_BYTES = 4096;
/** A ciphertext carries its header, IV and tag; a KMS blob adds its own envelope. */
const MAX_CIPHERTEXT_BYTES = 8192;
const MAX_CONTEXT_ENTRIES = 32;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const base64Of = (maxBytes: number) =>
  z
    .string()
    .min(1)
    .max(Math.ceil(maxBytes / 3) * 4)
    .regex(BASE64, 'standard base64 with padding')
    .transform((text) => Buffer.from(text, 'base64'))
    .refine((bytes) => bytes.length <= maxBytes, `at most ${maxBytes} bytes`);

/** A flat map of strings, bound as associated data in canonical (sorted-key) form. */
export const encryptionContextSchema = z
  .record(z.string().min(1).max(128), z.string().max(1024))
  .refine((context) => Object.keys(context).length <= MAX_CONTEXT_ENTRIES, `at most ${MAX_CONTEXT_ENTRIES} entries`);

export const dataKeySchema = z.strictObject({ context: encryptionContextSchema.optional() });

export const encryptSchema = z.strictObject({
  plaintext: base64Of(MAX_PLAINTEXT_BYTES),
  context: encryptionContextSchema.optional(),
});

const sealedFields = {
  ciphertext: base64Of(MAX_CIPHERTEXT_BYTES).optional(),
  ciphertextBlob: base64Of(MAX_CIPHERTEXT_BYTES).optional(),
  context: encryptionContextSchema.optional(),
};
const exactlyOneSealed = (body: { ciphertext?: Buffer; ciphertextBlob?: Buffer }) =>
  (body.ciphertext === undefined) !== (body.ciphertextBlob === undefined);
const exactlyOneMessage = { message: 'give exactly one of ciphertext, ciphertextBlob' };

export const decryptSchema = z.strictObject(sealedFields).refine(exactlyOneSealed, exactlyOneMessage);
export const rewrapSchema = z.strictObject(sealedFields).refine(exactlyOneSealed, exactlyOneMessage);

export const versionQuerySchema = z.strictObject({ version: z.coerce.number().int().min(1).max(1_000_000).optional() });

/** The one sealed input a decrypt or rewrap body carries. */
export const sealedInputOf = (body: z.infer<typeof decryptSchema>) =>
  body.ciphertext !== undefined
    ? { field: 'ciphertext' as const, bytes: body.ciphertext }
    : { field: 'ciphertextBlob' as const, bytes: body.ciphertextBlob! };
