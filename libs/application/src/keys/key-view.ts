import type { Key, KeyVersion } from '@keyledger/domain';

/** The wire shape of a key (SPEC §8): what `GET /v1/keys/{id}` and every lifecycle command answer. */
export interface KeyVersionView {
  version: number;
  state: KeyVersion['state'];
  compromised: boolean;
  compromisedAt: string | null;
  fingerprint: string;
  parentVersion: number | null;
  createdAt: string;
  activatedAt: string | null;
  deactivatedAt: string | null;
  protectUntil: string | null;
  processUntil: string | null;
  destructionScheduledFor: string | null;
  destroyedAt: string | null;
}

export interface KeyView {
  id: string;
  tenantId: string;
  purpose: Key['purpose'];
  algorithm: Key['algorithm'];
  custodian: Key['custodian'];
  parentKeyId: string | null;
  label: string | null;
  classifications: string[];
  vendors: Key['vendors'][number][];
  cryptoperiod: { oupDays: number; rupDays: number; deviation: string | null };
  currentVersion: number;
  revision: number;
  createdAt: string;
  lastRotatedAt: string | null;
  versions: KeyVersionView[];
}

const toVersionView = (v: KeyVersion): KeyVersionView => ({
  version: v.version,
  state: v.state,
  compromised: v.compromised,
  compromisedAt: v.compromisedAt,
  fingerprint: v.fingerprint,
  parentVersion: v.parentVersion,
  createdAt: v.createdAt,
  activatedAt: v.activatedAt,
  deactivatedAt: v.deactivatedAt,
  protectUntil: v.protectUntil,
  processUntil: v.processUntil,
  destructionScheduledFor: v.destructionScheduledFor,
  destroyedAt: v.destroyedAt,
});

export const toKeyView = (key: Key, revision: number): KeyView => ({
  id: key.keyId,
  tenantId: key.tenantId,
  purpose: key.purpose,
  algorithm: key.algorithm,
  custodian: key.custodian,
  parentKeyId: key.parentKeyId,
  label: key.label,
  classifications: [...key.classifications],
  vendors: [...key.vendors],
  cryptoperiod: { ...key.policy },
  currentVersion: key.currentVersion,
  revision,
  createdAt: key.createdAt,
  lastRotatedAt: key.lastRotatedAt,
  versions: key.versions.map(toVersionView),
});
