/** Who is acting, and the request facts every command and query carries from the edge. */
export const ROLES = ['service', 'key-admin', 'custodian', 'auditor', 'operator'] as const;
export type Role = (typeof ROLES)[number];

export interface Actor {
  readonly principalId: string;
  readonly name: string;
  readonly roles: readonly Role[];
  /** Service principals are bound to one tenant; the others see every tenant. */
  readonly tenantId: string | null;
}

export interface RequestContext {
  readonly actor: Actor;
  readonly correlationId: string;
  readonly idempotencyKey: string | null;
  /** From `If-Match`: the key revision the caller expects; a mismatch answers 412. */
  readonly expectedRevision: number | null;
  /** Set only when an approved dual-control request executes its operation. */
  readonly approvalId?: string;
}

export const SYSTEM_ACTOR: Actor = {
  principalId: 'system',
  name: 'keyledger',
  roles: ['operator'],
  tenantId: null,
};

export const canSeeTenant = (actor: Actor, tenantId: string): boolean =>
  actor.tenantId === null || actor.tenantId === tenantId;
