import type { RecordedEvent } from '@keyledger/event-store';
import { csvHeader, csvLine, jsonLine, toAuditEntry, type AuditEntry, type AuditSubject } from '@keyledger/read-models';

/** The mapping of events to 164.312(b) entries, and the CSV / JSON Lines forms of an entry. */
const recorded = (type: string, data: unknown, overrides: Partial<RecordedEvent['metadata']> = {}): RecordedEvent => ({
  eventId: `event-${type}`,
  streamId: 'stream',
  revision: 0,
  position: 42,
  type,
  schemaVersion: 1,
  data,
  metadata: { actor: 'principal-1', tenantId: 'acme', correlationId: 'corr-1', causationId: null, idempotencyKey: null, recordedAt: '2026-01-02T03:04:05.000Z', ...overrides },
});

const entry = (event: RecordedEvent, subjects: ReadonlyMap<string, AuditSubject> = new Map()): AuditEntry => toAuditEntry(event, subjects);

describe('audit entries', () => {
  it('names the lifecycle command, the version and the evidence of a destruction', () => {
    const destroyed = recorded('KeyVersionDestroyed', {
      keyId: 'k1',
      version: 2,
      destroyedAt: '2026-01-02T03:04:05.000Z',
      evidence: { custodian: 'pkcs11', materialRef: 'handle-7', method: 'C_DestroyObject', verifiedAbsent: true, verification: 'C_FindObjects: 0', destroyedAt: 'x' },
    });
    expect(entry(destroyed)).toEqual({
      position: 42,
      eventId: 'event-KeyVersionDestroyed',
      recordedAt: '2026-01-02T03:04:05.000Z',
      actor: 'principal-1',
      tenantId: 'acme',
      keyId: 'k1',
      version: 2,
      operation: 'destroy',
      outcome: 'success',
      correlationId: 'corr-1',
      eventType: 'KeyVersionDestroyed',
      detail: { custodian: 'pkcs11', method: 'C_DestroyObject', verifiedAbsent: true },
    });
  });

  it.each([
    ['KeyUsed', 'encrypt', 'success', { keyId: 'k', version: 1, operation: 'encrypt', recipientId: null, usedAt: 't' }],
    ['KeyUseDenied', 'decrypt', 'denied', { keyId: 'k', version: 1, operation: 'decrypt', code: 'KEY.USAGE_NOT_ALLOWED', reason: 'r', deniedAt: 't' }],
    ['KeyUseFailed', 'decrypt', 'failed', { keyId: 'k', version: 1, operation: 'decrypt', code: 'CRYPTO.X', reason: 'r', failedAt: 't' }],
    ['CrossTenantAccessDenied', 'read', 'denied', { keyId: 'k', principalId: 'p-9', principalTenantId: 'other', operation: 'read', deniedAt: 't' }],
    ['ApprovalDenied', 'deny-approval', 'denied', { approvalId: 'a', custodian: 'c', reason: null, deniedAt: 't' }],
    ['ApprovalExecuted', 'execute-approval', 'failed', { approvalId: 'a', executedAt: 't', outcome: 'failed', result: {} }],
    ['DekRewrapSkipped', 'rewrap-key', 'failed', { jobId: 'j', kekId: 'kek', dekId: 'k', dekVersion: 1, toKekVersion: 2, code: 'c', reason: 'r', skippedAt: 't' }],
  ])('maps %s to operation %s with outcome %s', (type, operation, outcome, data) => {
    expect(entry(recorded(type, data))).toMatchObject({ operation, outcome });
  });

  it('credits a cross-tenant attempt to the principal who made it, under the tenant it probed', () => {
    const denied = recorded('CrossTenantAccessDenied', { keyId: 'k', principalId: 'p-9', principalTenantId: 'other', operation: 'read', deniedAt: 't' }, { actor: 'p-9' });
    expect(entry(denied)).toMatchObject({ actor: 'p-9', tenantId: 'acme', detail: { principalTenantId: 'other' } });
  });

  it('never copies a principal token hash', () => {
    const registered = entry(recorded('PrincipalRegistered', { principalId: 'p', name: 'svc', roles: ['service'], tenantId: 'acme', tokenHash: 'f'.repeat(64), registeredAt: 't' }));
    const rotated = entry(recorded('PrincipalTokenRotated', { principalId: 'p', tokenHash: 'e'.repeat(64), rotatedAt: 't' }));
    expect(JSON.stringify([registered, rotated])).not.toMatch(/f{64}|e{64}/);
  });

  it('attributes approval events to the key their request named', () => {
    const subjects = new Map([['a-1', { subjectId: 'a-1', keyId: 'root-1', version: 3, tenantId: 'platform' }]]);
    expect(entry(recorded('ApprovalGranted', { approvalId: 'a-1', custodian: 'c', grantedAt: 't' }), subjects)).toMatchObject({ keyId: 'root-1', version: 3, operation: 'approve' });
  });

  it('still gives an event of an unknown type an entry, named after its type', () => {
    expect(entry(recorded('WidgetTeleportFailed', { keyId: 'k7', version: 4 }))).toMatchObject({ operation: 'widget-teleport-failed', outcome: 'failed', keyId: 'k7', version: 4 });
    expect(entry(recorded('WidgetPolished', null))).toMatchObject({ operation: 'widget-polished', outcome: 'success', keyId: null, version: null });
  });
});

describe('audit exports', () => {
  const sample = entry(recorded('KeyUseDenied', { keyId: 'k', version: null, operation: 'encrypt', code: 'KEY.X', reason: 'it is "suspended", for now\nreally', deniedAt: 't' }));

  it('writes RFC 4180 CSV: quoted commas, quotes and line breaks, empty nulls, CRLF', () => {
    expect(csvHeader()).toBe('position,recordedAt,actor,tenantId,keyId,version,operation,outcome,correlationId,eventType,eventId,detail\r\n');
    expect(csvLine(sample)).toBe(
      '42,2026-01-02T03:04:05.000Z,principal-1,acme,k,,encrypt,denied,corr-1,KeyUseDenied,event-KeyUseDenied,' +
        '"{""code"":""KEY.X"",""reason"":""it is \\""suspended\\"", for now\\nreally""}"\r\n',
    );
  });

  it('keeps spreadsheets from running a cell as a formula', () => {
    const hostile = { ...sample, actor: '=HYPERLINK("http://x")', tenantId: '+1', keyId: '@k' };
    const cells = csvLine(hostile).split(',');
    expect(cells[2]).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(cells[3]).toBe(`"'+1"`);
    expect(cells[4]).toBe(`"'@k"`);
  });

  it('writes one JSON object per line', () => {
    expect(jsonLine(sample).endsWith('\n')).toBe(true);
    expect(JSON.parse(jsonLine(sample))).toEqual(sample);
  });
});
