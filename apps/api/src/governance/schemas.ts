import { z } from 'zod';
import { PROTECTED_OPERATIONS } from '@keyledger/domain';

const id = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');

export const requestApprovalSchema = z.strictObject({
  operation: z.enum(PROTECTED_OPERATIONS),
  keyId: id.optional(),
  version: z.number().int().min(1).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});
export const denySchema = z.strictObject({ reason: z.string().min(1).max(500).optional() });
export const emptySchema = z.strictObject({});

export const openCeremonySchema = z.strictObject({
  purpose: z.string().min(1).max(500),
  keyId: id.optional(),
  witnesses: z
    .array(z.strictObject({ name: z.string().min(1).max(100), publicKeyPem: z.string().min(40).max(4096) }))
    .min(1)
    .max(20),
});
export const stepSchema = z.strictObject({ description: z.string().min(1).max(2000), approvalId: id.optional() });
export const attestationSchema = z.strictObject({
  witness: z.string().min(1).max(100),
  signature: z.string().min(1).max(200).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64'),
});
export const approvalIdSchema = id;
