/** Injection tokens for the ports; adapters are chosen by configuration at the composition root. */
export const EVENT_STORE = Symbol('EVENT_STORE');
export const IDEMPOTENCY_STORE = Symbol('IDEMPOTENCY_STORE');
export const KEY_CUSTODIAN = Symbol('KEY_CUSTODIAN');
export const CLOCK = Symbol('CLOCK');
export const ENGINE_SETTINGS = Symbol('ENGINE_SETTINGS');

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Settings the application layer needs (a subset of the configuration). */
export interface EngineSettings {
  readonly destructionWaitMinDays: number;
  /** Distinct custodians whose approval a dual-control request needs (M of N). */
  readonly approvalsRequired: { readonly root: number; readonly kek: number };
  readonly approvalTtlHours: number;
  readonly schedulerIntervalMs: number;
  readonly autoRotate: readonly ('dek' | 'kek')[];
  /** Pause between two DEKs of a KEK rewrap job, to spare the custodian's quota (0: none). */
  readonly rewrapPauseMs?: number;
}
