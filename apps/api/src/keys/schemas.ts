import { z } from 'zod';
import { INVENTORY_SORTS } from '@keyledger/read-models';
import {
  BAA_STATUSES,
  CUSTODIANS,
  DATA_CLASSIFICATIONS,
  KEY_ALGORITHMS,
  KEY_PURPOSES,
  KEY_VERSION_STATES,
  REVOCATION_REASONS,
  VENDOR_KEY_MODES,
} from '@keyledger/domain';

/** Request bodies and queries of the key routes (SPEC §8 wire names). Unknown fields are refused. */
const id = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');
const version = z.number().int().min(1).max(1_000_000);
const instant = z.iso.datetime({ offset: true });

export const generateKeySchema = z.strictObject({
  tenantId: id,
  purpose: z.enum(KEY_PURPOSES),
  algorithm: z.enum(KEY_ALGORITHMS).default('AES-256'),
  parentKeyId: id.nullable().default(null),
  custodian: z.enum(CUSTODIANS).nullable().default(null),
  classifications: z.array(z.enum(DATA_CLASSIFICATIONS)).max(16).default([]),
  vendors: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and - only'),
        mode: z.enum(VENDOR_KEY_MODES),
        baaStatus: z.enum(BAA_STATUSES),
      }),
    )
    .max(32)
    .default([]),
  cryptoperiodDays: z.number().int().min(1).max(36500).nullable().default(null),
  label: z.string().min(1).max(200).nullable().default(null),
  /** Custodian-specific: adopt an existing KMS key by ARN or alias, or import (BYOK) generated material. */
  source: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('generate') }),
      z.strictObject({ kind: z.literal('import') }),
      z.strictObject({ kind: z.literal('adopt'), externalId: z.string().min(1).max(2048).regex(/^(?:arn:[A-Za-z0-9:/_.-]+|alias\/[A-Za-z0-9/_-]+|[0-9a-f-]{36})$/, 'a KMS key ARN, alias/… or key id') }),
    ])
    .optional(),
});

export const updateMetadataSchema = z.strictObject({
  classifications: generateKeySchema.shape.classifications.removeDefault().optional(),
  vendors: generateKeySchema.shape.vendors.removeDefault().optional(),
});
export const versionedSchema = z.strictObject({ version: version.optional() });
export const suspendSchema = z.strictObject({ version: version.optional(), reason: z.string().min(1).max(500).optional() });
export const revokeSchema = z.strictObject({
  version: version.optional(),
  reason: z.enum(REVOCATION_REASONS),
  compromisedAt: instant.optional(),
});
export const scheduleDestructionSchema = z.strictObject({
  version: version.optional(),
  waitingPeriodDays: z.number().int().min(0).max(365).optional(),
});
export const rotateSchema = z.strictObject({});
export const distributeSchema = z.strictObject({ recipientId: id, version: version.optional() });

export const registerRecipientSchema = z.strictObject({
  name: z.string().min(1).max(200),
  tenantId: id,
  publicKeyPem: z.string().min(100).max(16_384),
});

export const atQuerySchema = z.strictObject({ at: instant.optional() });
export const listKeysQuerySchema = z.strictObject({
  tenantId: id.optional(),
  purpose: z.enum(KEY_PURPOSES).optional(),
  state: z.enum(KEY_VERSION_STATES).optional(),
  classification: z.enum(DATA_CLASSIFICATIONS).optional(),
  vendor: z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and - only').optional(),
  custodian: z.enum(CUSTODIANS).optional(),
  rotationDueBefore: instant.optional(),
  compromised: z.enum(['true', 'false']).transform((value) => value === 'true').optional(),
  sort: z.enum(INVENTORY_SORTS).default('createdAt'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().min(1).max(512).optional(),
  at: instant.optional(),
});
export const keyIdSchema = id;
