import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { parseRecipientPublicKey } from '@keyledger/custody';
import type { EventStore } from '@keyledger/event-store';
import { canSeeTenant, type RequestContext } from '../shared/context.js';
import { RecipientNotFoundError } from '../shared/errors.js';
import { metadataFor } from '../shared/metadata.js';
import { RECIPIENTS_STREAM } from '../shared/streams.js';
import { CLOCK, EVENT_STORE, type Clock } from '../shared/tokens.js';

/** A registered recipient of distributed keys: its RSA public key is the transport key. */
export interface Recipient {
  id: string;
  name: string;
  tenantId: string;
  publicKeyPem: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo, hex. */
  publicKeyFingerprint: string;
  keyBits: number;
  registeredAt: string;
}

export type RecipientRegistered = { type: 'RecipientRegistered'; data: Recipient };

const inspectPublicKey = (pem: string): { fingerprint: string; bits: number; pem: string } => {
  const key = parseRecipientPublicKey(pem);
  return {
    fingerprint: createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex'),
    bits: key.asymmetricKeyDetails?.modulusLength ?? 0,
    pem: key.export({ type: 'spki', format: 'pem' }).toString(),
  };
};

/** Recipients are events on one stream; the list is small, so it is folded on read. */
@Injectable()
export class Recipients {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async register(input: { name: string; tenantId: string; publicKeyPem: string }, ctx: RequestContext): Promise<Recipient> {
    const inspected = inspectPublicKey(input.publicKeyPem);
    const recipient: Recipient = {
      id: randomUUID(),
      name: input.name,
      tenantId: input.tenantId,
      publicKeyPem: inspected.pem,
      publicKeyFingerprint: inspected.fingerprint,
      keyBits: inspected.bits,
      registeredAt: this.clock.now().toISOString(),
    };
    const event: RecipientRegistered = { type: 'RecipientRegistered', data: recipient };
    await this.store.appendToStream(
      RECIPIENTS_STREAM,
      [{ ...event, schemaVersion: 1, metadata: metadataFor(ctx, input.tenantId) }],
      'any',
    );
    return recipient;
  }

  async list(ctx: RequestContext): Promise<Recipient[]> {
    const events = await this.store.readStream(RECIPIENTS_STREAM);
    return events
      .filter((e) => e.type === 'RecipientRegistered')
      .map((e) => e.data as Recipient)
      .filter((r) => canSeeTenant(ctx.actor, r.tenantId));
  }

  async get(recipientId: string, ctx: RequestContext): Promise<Recipient> {
    const found = (await this.list(ctx)).find((r) => r.id === recipientId);
    if (!found) throw new RecipientNotFoundError(recipientId);
    return found;
  }
}
