/*
 * Events of a key's usage stream (SPEC §4), written by the application and read by the read side:
 * one definition, here, so that writer and readers cannot drift apart. They carry identifiers and
 * versions, never material.
 */
/** Uses of a key (SPEC §4). Every use, and every denied attempt, is an event. */
export type KeyUseOperation = 'generate-data-key' | 'encrypt' | 'decrypt' | 'wrap' | 'unwrap' | 'rewrap' | 'distribute';

export type KeyUsed = {
  type: 'KeyUsed';
  data: {
    keyId: string;
    version: number;
    operation: KeyUseOperation;
    recipientId: string | null;
    usedAt: string;
    /** A rewrap: the version the ciphertext was under before (absent on other uses). */
    fromVersion?: number;
  };
};

export type KeyUseDenied = {
  type: 'KeyUseDenied';
  data: { keyId: string; version: number | null; operation: KeyUseOperation; code: string; reason: string; deniedAt: string };
};

/**
 * The use was allowed but did not succeed: the ciphertext failed authentication, or the
 * custodian could not complete it. The audit view reports it with outcome `failed`.
 */
export type KeyUseFailed = {
  type: 'KeyUseFailed';
  data: { keyId: string; version: number; operation: KeyUseOperation; code: string; reason: string; failedAt: string };
};

export type KeyUseEvent = KeyUsed | KeyUseDenied | KeyUseFailed;
