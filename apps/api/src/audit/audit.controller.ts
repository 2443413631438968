import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { InvalidInputError } from '@keyledger/domain';
import { AuditError, parseRangeBound, writeBundleTar, type VerifyReport } from '@keyledger/audit';
import { Roles } from '../http/request.js';
import { Validate } from '../http/validation.js';
import { AuditService } from './audit.service.js';

const verifyQuerySchema = z.strictObject({
  /** "C" or "C:rootHash": a checkpoint known from elsewhere, which must still be in the log. */
  expectCheckpoint: z
    .string()
    .regex(/^\d{1,12}(:[0-9a-f]{64})?$/, 'a checkpoint sequence, optionally followed by ":" and its root hash in hex')
    .optional(),
});
const exportQuerySchema = z.strictObject({
  from: z.string().min(1).max(40).optional(),
  to: z.string().min(1).max(40).optional(),
});

/** Integrity of the log (SPEC §6): verification, the offline bundle, and the key that signs checkpoints. */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('verify')
  @Roles('auditor', 'operator', 'key-admin')
  @ApiOperation({
    summary: 'Verify the whole log against its signed checkpoints',
    description:
      'Recomputes every event hash, the hash chain and the Merkle tree, and checks every checkpoint signature. ' +
      'Answers 200 with { intact, summary, intactThrough, failures, … }: intact up to position P and checkpoint C, ' +
      'or which event or checkpoint fails and why. ?expectCheckpoint=C[:root] also requires a checkpoint known from elsewhere.',
  })
  verify(@Query(new Validate(verifyQuerySchema, 'query')) q: z.infer<typeof verifyQuerySchema>): Promise<VerifyReport> {
    if (!q.expectCheckpoint) return this.audit.verify();
    const [sequence, rootHash] = q.expectCheckpoint.split(':');
    return this.audit.verify({ sequence: Number(sequence), ...(rootHash ? { rootHash } : {}) });
  }

  @Get('export')
  @Roles('auditor', 'operator', 'key-admin')
  @ApiProduces('application/x-tar')
  @ApiOperation({
    summary: 'Download an audit bundle (tar) for offline verification',
    description:
      '?from= and ?to= are log positions or ISO-8601 instants (default: the whole log). Pending events are sealed first. ' +
      'The tar holds events.jsonl, checkpoints.jsonl, inclusion and consistency proofs, the public key and a signed manifest; ' +
      '`keyledger audit verify-bundle` checks it offline. See docs/audit-bundle.md.',
  })
  async export(@Query(new Validate(exportQuerySchema, 'query')) q: z.infer<typeof exportQuerySchema>, @Res() res: Response): Promise<void> {
    const directory = await mkdtemp(join(tmpdir(), 'keyledger-export-'));
    try {
      const bundle = join(directory, 'bundle');
      const { manifest } = await this.audit.export(bundle, ...rangeOf(q)).catch(asInputError);
      const name = `keyledger-audit-${manifest.range.fromPosition}-${manifest.range.toPosition}.tar`;
      res.status(200).setHeader('Content-Type', 'application/x-tar').setHeader('Content-Disposition', `attachment; filename="${name}"`);
      await writeBundleTar(bundle, res, false);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }

  @Get('public-key')
  @Roles('auditor', 'operator', 'key-admin')
  @ApiOperation({ summary: 'The Ed25519 public key that signs checkpoints and bundle manifests (pin it to verify bundles)' })
  publicKey(): { algorithm: 'Ed25519'; keyId: string; publicKeyPem: string } {
    return this.audit.publicKey();
  }
}

function rangeOf(q: z.infer<typeof exportQuerySchema>) {
  try {
    return [q.from === undefined ? undefined : parseRangeBound(q.from, 'from'), q.to === undefined ? undefined : parseRangeBound(q.to, 'to')] as const;
  } catch (error) {
    return asInputError(error);
  }
}

/** A range that holds nothing to export is the request's fault: a 400 that says why. */
function asInputError(error: unknown): never {
  if (error instanceof AuditError) throw new InvalidInputError(error.message, { auditCode: error.code });
  throw error;
}
