import type { MaterialRow } from './software/material-store.js';
import { CrossTenantWrapError } from './port.js';

/** What a custodian knows about material it holds, enough to keep tenants apart. */
export type MaterialOwner = Pick<MaterialRow, 'ref' | 'tenantId' | 'purpose'>;

/**
 * SPEC §2: a DEK of tenant A is never wrapped by tenant B's KEK. Roots are platform keys and
 * may wrap any tenant's KEK. Checked by each custodian, beside the domain's own check, so that
 * no caller of the port can bypass it.
 */
export function assertMayWrap(child: { ref: string; tenantId: string }, wrapping: MaterialOwner): void {
  if (wrapping.purpose === 'root') return;
  if (wrapping.tenantId !== child.tenantId) throw new CrossTenantWrapError(child.ref, wrapping.ref);
}
