import type { Actor } from '../shared/context.js';

/**
 * The tenant a read is restricted to: a service principal sees only its own tenant whatever it
 * asks for (asking for another yields nothing, not an error that would confirm the tenant exists);
 * other principals see the tenant they name, or all.
 * Returns `{ tenantId }` (undefined: every tenant), or null when nothing is visible.
 */
export function visibleTenant(actor: Actor, requested: string | undefined): { tenantId: string | undefined } | null {
  if (actor.tenantId === null) return { tenantId: requested };
  if (requested !== undefined && requested !== actor.tenantId) return null;
  return { tenantId: actor.tenantId };
}
