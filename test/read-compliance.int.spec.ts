import { randomUUID } from 'node:crypto';
import { complianceReport, PROJECTION_NAMES, ReadSide, RULE_IDS, type ComplianceReport, type RuleId } from '@keyledger/read-models';
import { LogWriter, readFixture, type ReadFixture } from './support/read-log.js';

/**
 * Each compliance rule, given events → expected findings: it fires on its case, with its
 * references and evidence events, and stays quiet on the clean case. Events go through the real
 * decider, the real SQLite log and the real projections.
 */
const DAY_MS = 86_400_000;
const ago = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();

describe('compliance rules', () => {
  let fixture: ReadFixture;
  let log: LogWriter;
  let side: ReadSide;

  beforeEach(async () => {
    fixture = readFixture();
    log = new LogWriter(fixture.store);
    side = new ReadSide(fixture.store, fixture.openStorage(), { catchUpTimeoutMs: 5_000 });
    await side.start();
  });
  afterEach(async () => {
    await side.stop();
    await fixture.cleanup();
  });

  const report = async (now = new Date().toISOString()): Promise<ComplianceReport> => {
    await side.caughtUp(PROJECTION_NAMES);
    return complianceReport(side.storage, now);
  };
  const findings = async (rule: RuleId, now?: string) => (await report(now)).findings.filter((f) => f.rule === rule);
  const eventIdsOf = async (type: string, keyId: string) =>
    (await fixture.store.readAll()).filter((e) => e.type === type && (e.data as { keyId?: string }).keyId === keyId).map((e) => e.eventId);

  /** A compliant estate: a root under a recent ceremony, a tenant KEK with a CMK vendor and a BAA, an active DEK. */
  const compliantEstate = async () => {
    const root = await log.generate({ tenantId: 'platform', purpose: 'root', classifications: ['internal'], now: ago(20) });
    await log.command(root, 'ActivateKey', { now: ago(20) });
    await log.ceremonyClosed(root, ago(20));
    const kek = await log.generate({
      tenantId: 'acme',
      purpose: 'kek',
      parent: root,
      vendors: [{ name: 'aws-bedrock', mode: 'cmk', baaStatus: 'signed' }],
      now: ago(10),
    });
    await log.command(kek, 'ActivateKey', { now: ago(10) });
    const dek = await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek, now: ago(5) });
    await log.command(dek, 'ActivateKey', { now: ago(5) });
    await log.used(dek, 1, 'encrypt');
    return { root, kek, dek };
  };

  it('finds nothing in a compliant estate, and says that every rule ran', async () => {
    await compliantEstate();
    const clean = await report();
    expect(clean.findings).toEqual([]);
    expect(clean.rules.map((r) => [r.rule, r.findings])).toEqual(RULE_IDS.map((rule) => [rule, 0]));
    expect(clean.summary.overall).toMatchObject({ findings: 0 });
  });

  it('rotation overdue: an active version past its originator-usage period, evaluated at query time', async () => {
    const { kek, dek } = await compliantEstate();
    const old = await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek, now: ago(100) });
    await log.command(old, 'ActivateKey', { now: ago(100) });

    const [overdue, ...rest] = await findings('rotation-overdue');
    expect(rest).toEqual([]);
    expect(overdue).toMatchObject({ keyId: old, version: 1, tenantId: 'acme', references: expect.arrayContaining(['NIST SP 800-57 Part 1 Rev. 5 §5.3', '45 CFR 164.312(a)(2)(iv)']) });
    expect(overdue!.evidence.map((e) => e.eventId)).toEqual(await eventIdsOf('KeyVersionActivated', old));
    // The DEK activated 5 days ago becomes overdue only once "now" passes its 90 days.
    expect((await findings('rotation-overdue', new Date(Date.now() + 86 * DAY_MS).toISOString())).map((f) => f.keyId)).toContain(dek);
    await log.rotate(old);
    expect(await findings('rotation-overdue')).toEqual([]);
  });

  it('use after deactivation attempted: a denied use of a version that was deactivated then', async () => {
    const { dek } = await compliantEstate();
    await log.denied(dek, 1, 'encrypt'); // denied while active: not this rule
    expect(await findings('use-after-deactivation-attempted')).toEqual([]);
    await log.command(dek, 'DeactivateKey', {});
    await log.denied(dek, 1, 'encrypt');
    const [found, ...rest] = await findings('use-after-deactivation-attempted');
    expect(rest).toEqual([]);
    expect(found).toMatchObject({ keyId: dek, version: 1, references: expect.arrayContaining(['45 CFR 164.312(b)']) });
    const denial = (await fixture.store.readAll()).filter((e) => e.type === 'KeyUseDenied').at(-1)!;
    expect(found!.evidence.map((e) => e.eventId)).toEqual([denial.eventId, ...(await eventIdsOf('KeyVersionDeactivated', dek))]);
  });

  it('destruction without evidence: a destroyed version whose custodian did not verify absence', async () => {
    const { kek } = await compliantEstate();
    const proven = await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek });
    await log.command(proven, 'ScheduleKeyDestruction', { waitingPeriodDays: 0, minimumWaitingPeriodDays: 0 });
    const ref = log.key(proven).versions[0]!.materialRef;
    await log.command(proven, 'DestroyKey', { evidence: { custodian: 'software', materialRef: ref, method: 'erase', verifiedAbsent: true, verification: 'row absent', destroyedAt: '' } });
    expect(await findings('destruction-without-evidence')).toEqual([]);

    // The decider refuses this; an event written otherwise (an older writer, an import) still reaches the log.
    const unproven = await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek });
    const evidence = { custodian: 'software', materialRef: 'ref', method: 'erase', verifiedAbsent: false, verification: '', destroyedAt: ago(0) };
    await fixture.store.appendToStream(`key-${unproven}`, [{ type: 'KeyVersionDestroyed', schemaVersion: 1, data: { keyId: unproven, version: 1, destroyedAt: ago(0), evidence }, metadata: log.metadata('acme') }], 0);
    const [found, ...rest] = await findings('destruction-without-evidence');
    expect(rest).toEqual([]);
    expect(found).toMatchObject({ keyId: unproven, version: 1 });
    expect(found!.evidence.map((e) => e.eventId)).toEqual(await eventIdsOf('KeyVersionDestroyed', unproven));
  });

  it('no annual root ceremony: a root whose last covering ceremony closed more than 12 months ago, or never', async () => {
    const { root } = await compliantEstate();
    const forgotten = await log.generate({ tenantId: 'platform', purpose: 'root' });
    const lapsed = await log.generate({ tenantId: 'platform', purpose: 'root' });
    await log.ceremonyClosed(lapsed, ago(400));
    await log.ceremonyClosed(root, ago(30)); // names another root: covers only that one
    const found = await findings('no-annual-root-ceremony');
    expect(found.map((f) => f.keyId).sort()).toEqual([forgotten, lapsed].sort());
    expect(found.find((f) => f.keyId === lapsed)!.evidence.map((e) => e.type)).toEqual(['KeyGenerated', 'CeremonyClosed']);
    // A ceremony naming no key covers every root.
    await log.ceremonyClosed(null, ago(1));
    expect(await findings('no-annual-root-ceremony')).toEqual([]);
    // And twelve months on, it no longer does.
    expect(await findings('no-annual-root-ceremony', new Date(Date.now() + 366 * DAY_MS).toISOString())).toHaveLength(3);
  });

  it('tenant without its own KEK: data keys, but no active key-encryption key of the tenant', async () => {
    await compliantEstate();
    const kek = await log.generate({ tenantId: 'globex', purpose: 'kek' });
    await log.command(kek, 'ActivateKey', {});
    const dek = await log.generate({ tenantId: 'globex', purpose: 'dek', parent: kek });
    expect(await findings('tenant-without-own-kek')).toEqual([]);
    await log.command(kek, 'DeactivateKey', {});
    const [found, ...rest] = await findings('tenant-without-own-kek');
    expect(rest).toEqual([]);
    expect(found).toMatchObject({ tenantId: 'globex', keyId: null, references: expect.arrayContaining(['45 CFR 164.312(a)(2)(iv)']) });
    expect(found!.evidence.map((e) => e.eventId)).toEqual(await eventIdsOf('KeyGenerated', dek));
  });

  it('classification missing: a live key without data classification', async () => {
    const { kek } = await compliantEstate();
    const bare = await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek, classifications: [] });
    const [found, ...rest] = await findings('classification-missing');
    expect(rest).toEqual([]);
    expect(found).toMatchObject({ keyId: bare, references: expect.arrayContaining(['45 CFR 164.308(a)(1)(ii)(B)']) });
    await log.command(bare, 'ScheduleKeyDestruction', { waitingPeriodDays: 0, minimumWaitingPeriodDays: 0 });
    const ref = log.key(bare).versions[0]!.materialRef;
    await log.command(bare, 'DestroyKey', { evidence: { custodian: 'software', materialRef: ref, method: 'erase', verifiedAbsent: true, verification: 'gone', destroyedAt: '' } });
    expect(await findings('classification-missing')).toEqual([]);
  });

  it('vendor without BYOK or zero retention, and vendor serving health data without a signed BAA', async () => {
    const { kek } = await compliantEstate();
    await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek, classifications: ['internal'], vendors: [{ name: 'chat-vendor', mode: 'none', baaStatus: 'pending' }] });
    const ephi = await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek, vendors: [{ name: 'openai', mode: 'zero-retention', baaStatus: 'pending' }] });
    const keyModes = await findings('vendor-without-byok-or-zero-retention');
    expect(keyModes.map((f) => f.detail)).toEqual([expect.stringContaining('chat-vendor')]);
    const baa = await findings('vendor-without-baa');
    expect(baa.map((f) => [f.keyId, f.references])).toEqual([[ephi, expect.arrayContaining(['45 CFR 164.308(b)(1)'])]]);
  });

  it('data protected after a compromise: uses and wrapped keys recorded since the compromise date', async () => {
    const { kek, dek } = await compliantEstate();
    const compromisedAt = new Date(Date.now() - 60_000).toISOString();
    await log.used(dek, 1, 'encrypt');
    await log.used(dek, 1, 'decrypt'); // processing is not protecting
    const wrapped = await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek });
    await log.command(dek, 'RevokeKey', { reason: 'compromised', compromisedAt });
    await log.command(kek, 'RevokeKey', { reason: 'compromised', compromisedAt });

    const found = await findings('data-protected-after-compromise');
    const forDek = found.find((f) => f.keyId === dek)!;
    expect(forDek.detail).toContain('protected 2 time(s)'); // both encrypts of the DEK: at setup and after
    expect(forDek.evidence[0]!.eventId).toEqual((await eventIdsOf('KeyVersionRevoked', dek))[0]);
    expect(forDek.evidence.filter((e) => e.type === 'KeyUsed')).toHaveLength(2);
    const forKek = found.find((f) => f.keyId === kek)!;
    // The DEK of the estate was wrapped days before the compromise date: only the new one counts.
    expect(forKek.detail).toContain('wrapped 1 key version(s)');
    expect(forKek.evidence.map((e) => e.eventId)).toEqual([...(await eventIdsOf('KeyVersionRevoked', kek)), ...(await eventIdsOf('KeyGenerated', wrapped))]);
  });

  it('data protected after a compromise stays quiet when nothing was protected since the compromise date', async () => {
    const { dek } = await compliantEstate();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await log.command(dek, 'RevokeKey', { reason: 'compromised', compromisedAt: new Date().toISOString() });
    expect(await findings('data-protected-after-compromise')).toEqual([]);
  });

  it('sensitive data outside an HSM: 42 CFR Part 2 data under the software custodian', async () => {
    const { kek } = await compliantEstate();
    const soft = await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek, classifications: ['sud-42cfr2'] });
    await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek, classifications: ['sud-42cfr2'], custodian: 'pkcs11' });
    expect((await findings('sensitive-data-outside-hsm')).map((f) => [f.keyId, f.references])).toEqual([[soft, expect.arrayContaining(['NIST SP 800-53 Rev. 5 SC-13'])]]);
  });

  it('root cryptoperiod deviation: a root stretched past Table 1 is reported as a documented deviation', async () => {
    await compliantEstate();
    const stretched = await log.generate({ tenantId: 'platform', purpose: 'root', cryptoperiodDays: 1095 });
    await log.ceremonyClosed(stretched, ago(1));
    const [found, ...rest] = await findings('root-cryptoperiod-deviation');
    expect(rest).toEqual([]);
    expect(found).toMatchObject({ keyId: stretched, severity: 'info', detail: expect.stringContaining('1095 days') });
  });

  it('summarizes per tenant and overall, and scopes to one tenant or one rule', async () => {
    const { kek } = await compliantEstate();
    await log.generate({ tenantId: 'acme', purpose: 'dek', parent: kek, classifications: [] });
    const other = await log.generate({ tenantId: 'globex', purpose: 'kek', classifications: [] });
    await log.crossTenant(other, randomUUID(), 'acme');
    const full = await report();
    expect(full.summary.overall).toMatchObject({ findings: 2, byRule: { 'classification-missing': 2 } });
    expect(full.summary.tenants.map((t) => [t.tenantId, t.findings])).toEqual([['acme', 1], ['globex', 1]]);
    await side.caughtUp(PROJECTION_NAMES);
    const acme = await complianceReport(side.storage, new Date().toISOString(), { tenantId: 'acme' });
    expect(acme.findings.map((f) => f.tenantId)).toEqual(['acme']);
    const onlyRule = await complianceReport(side.storage, new Date().toISOString(), { rule: 'rotation-overdue' });
    expect(onlyRule.findings).toEqual([]);
    expect(onlyRule.rules.map((r) => r.rule)).toEqual(['rotation-overdue']);
  });
});
