/*
 * Events of a KEK's rewrap job (SPEC §3: rotating a KEK rewraps every DEK under the new version),
 * written by the application's job and read by the read side's lineage: one definition, here.
 */
export type DekRewrapStarted = {
  type: 'DekRewrapStarted';
  data: { jobId: string; kekId: string; tenantId: string; toVersion: number; dekVersions: number; startedAt: string };
};

/** One DEK version is now wrapped under `toKekVersion`. `changed` is false when a resumed job found it done. */
export type DekRewrapped = {
  type: 'DekRewrapped';
  data: {
    jobId: string;
    kekId: string;
    dekId: string;
    dekVersion: number;
    tenantId: string;
    fromKekVersion: number;
    toKekVersion: number;
    changed: boolean;
    rewrappedAt: string;
  };
};

/** The DEK version could not be rewrapped (its material is gone); it stays where it was. */
export type DekRewrapSkipped = {
  type: 'DekRewrapSkipped';
  data: { jobId: string; kekId: string; dekId: string; dekVersion: number; toKekVersion: number; code: string; reason: string; skippedAt: string };
};

/** `superseded`: the KEK was rotated again before the job ended; a new job takes over. */
export type DekRewrapCompleted = {
  type: 'DekRewrapCompleted';
  data: { jobId: string; kekId: string; toVersion: number; outcome: 'completed' | 'superseded'; rewrapped: number; skipped: number; completedAt: string };
};

export type DekRewrapEvent = DekRewrapStarted | DekRewrapped | DekRewrapSkipped | DekRewrapCompleted;

export const DEK_REWRAP_EVENT_TYPES: Readonly<Record<DekRewrapEvent['type'], { schemaVersion: number }>> = {
  DekRewrapStarted: { schemaVersion: 1 },
  DekRewrapped: { schemaVersion: 1 },
  DekRewrapSkipped: { schemaVersion: 1 },
  DekRewrapCompleted: { schemaVersion: 1 },
};

export const isDekRewrapEvent = (event: { type: string }): event is DekRewrapEvent =>
  Object.prototype.hasOwnProperty.call(DEK_REWRAP_EVENT_TYPES, event.type);
