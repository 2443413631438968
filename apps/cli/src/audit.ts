import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { AuditSealer, BundleReport, CheckpointSigner, ExpectedCheckpoint, ExportResult, VerifyReport } from '@keyledger/audit';
import type { EventStore } from '@keyledger/event-store';

/**
 * `keyledger audit verify | export | verify-bundle | seal | public-key`. They work straight on the
 * configured store and data dir (no server needed), except verify-bundle, which needs nothing but
 * the bundle. Verification failures exit with code 3, so scripts can tell them from errors (1).
 *
 * `audit` is shared with `audit replay`: the command is looked up and created only if no one
 * registered it yet, whatever the order of registration.
 */
export const VERIFICATION_FAILED_EXIT_CODE = 3;

export function registerAuditCommands(program: Command): void {
  const audit =
    program.commands.find((command) => command.name() === 'audit') ??
    program.command('audit').description('the audit trail: integrity, export, replay');

  audit
    .command('verify')
    .description('verify the log against its signed checkpoints: "intact up to position P, checkpoint C", or which event or checkpoint fails')
    .option('--public-key <file...>', 'trusted audit public keys (PEM); default: the configured signing key (data dir file, or the PKCS#11 token)')
    .option('--expect-checkpoint <sequence[:root]>', 'a checkpoint known from elsewhere (a report, a bundle): it must still be in the log')
    .option('--json', 'print the whole report as JSON')
    .action(async (o: { publicKey?: string[]; expectCheckpoint?: string; json?: boolean }) => {
      const { verifyStore, TrustedKeys } = await import('@keyledger/audit');
      const report = await withStore(async (store, dataDir) => {
        const trusted = new TrustedKeys(await trustedKeys(o.publicKey, dataDir));
        const progress = progressBar('verifying');
        try {
          return await verifyStore(store, trusted, {
            onProgress: (position, head) => progress.update(position, head),
            ...(o.expectCheckpoint ? { expectedCheckpoint: expectedCheckpointOf(o.expectCheckpoint) } : {}),
          });
        } finally {
          progress.stop();
        }
      });
      if (report.trustedKeyIds.length === 0 && report.checkpoints > 0) process.stderr.write('no audit signing key in the data dir: pass the trusted public key with --public-key\n');
      printReport(report, o.json === true);
    });

  audit
    .command('export')
    .description('write a self-contained audit bundle (a folder, or a .tar / .tar.gz file) for offline verification')
    .requiredOption('--out <path>', 'a new or empty folder, or a file ending in .tar or .tar.gz')
    .option('--from <position|instant>', 'first log position, or the first event recorded at or after an ISO-8601 instant')
    .option('--to <position|instant>', 'last log position, or the last event recorded at or before an instant (default: the last checkpoint)')
    .option('--json', 'print the manifest as JSON')
    .action(async (o: { out: string; from?: string; to?: string; json?: boolean }) => {
      const { isGzip, isTar, writeBundleTar } = await import('@keyledger/audit');
      const out = resolve(o.out);
      if (!isTar(out)) return printExport(out, await exportFromStore(out, o), o.json === true);
      // A tar is written from a bundle folder made aside, then removed.
      const folder = await mkdtemp(join(tmpdir(), 'keyledger-export-'));
      try {
        const exported = await exportFromStore(join(folder, 'bundle'), o);
        await writeBundleTar(exported.result.directory, createWriteStream(out, { flags: 'wx' }), isGzip(out));
        printExport(out, exported, o.json === true);
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    });

  audit
    .command('verify-bundle <bundle>')
    .description('verify an audit bundle (folder, .tar or .tar.gz) offline: no database, no server')
    .option('--public-key <file...>', 'the audit public keys you trust (PEM); without it the bundle\'s own keys are used')
    .option('--json', 'print the whole report as JSON')
    .action(async (bundle: string, o: { publicKey?: string[]; json?: boolean }) => {
      const { verifyBundleAt, rawPublicKeyFromPem } = await import('@keyledger/audit');
      const pinnedKeys = o.publicKey?.flatMap((file) => pemBlocks(readFileSync(file, 'utf8')).map(rawPublicKeyFromPem));
      printReport(await verifyBundleAt(resolve(bundle), pinnedKeys ? { pinnedKeys } : {}), o.json === true);
    });

  audit
    .command('seal')
    .description('write a signed checkpoint now for the events not sealed yet (a running server does this on its own)')
    .action(async () => {
      const { AuditSealer } = await import('@keyledger/audit');
      const [{ loadConfig }, { openAuditSigner }] = await Promise.all([import('../../api/src/config.js'), import('../../api/src/custodians.js')]);
      const config = loadConfig();
      const status = await withStore(async (store, dataDir) => {
        // The configured custodian's key: the data dir's file, or the PKCS#11 token's Ed25519 key.
        const signer: CheckpointSigner = await openAuditSigner(config, dataDir);
        try {
          const sealer: AuditSealer = new AuditSealer({ store, signer, checkpointEvery: config.checkpointEvery, checkpointIntervalMs: config.checkpointIntervalMs, logger: { event: () => undefined } });
          return await sealer.sealOnce();
        } finally {
          await signer.close();
        }
      });
      print(status.sequence === 0 ? 'nothing to seal: the log is empty' : `sealed up to position ${status.lastPosition}: checkpoint #${status.sequence}, ${status.treeSize} events`);
    });

  audit
    .command('public-key')
    .description("print the audit signing key's public key (PEM), to pin when verifying bundles")
    .action(async () => {
      const { publicKeyPem, keyIdOf } = await import('@keyledger/audit');
      const raw = await ownPublicKey(resolve((await import('../../api/src/config.js')).loadConfig().dataDir));
      if (!raw) throw new Error('No audit signing key yet (data dir or PKCS#11 token): it is created when the server first starts');
      process.stderr.write(`key id ${keyIdOf(raw)}\n`);
      process.stdout.write(publicKeyPem(raw));
    });
}

type Exported = { result: ExportResult; signedBy: string | null };

/** The bundle of the configured store, its manifest signed with the data dir's key when there is one. */
async function exportFromStore(folder: string, o: { from?: string; to?: string }): Promise<Exported> {
  const { exportBundle, parseRangeBound, resolveRange } = await import('@keyledger/audit');
  const [{ loadConfig }, { openExistingAuditSigner }] = await Promise.all([import('../../api/src/config.js'), import('../../api/src/custodians.js')]);
  const from = o.from === undefined ? undefined : parseRangeBound(o.from, 'from');
  const to = o.to === undefined ? undefined : parseRangeBound(o.to, 'to');
  return withStore(async (store, dataDir) => {
    const signer = await openExistingAuditSigner(loadConfig(), dataDir);
    try {
      const range = await resolveRange(store, from, to);
      const progress = progressBar('exporting');
      try {
        const result = await exportBundle(store, folder, { ...range, signer, onProgress: (_, done, total) => progress.update(done, total) });
        return { result, signedBy: signer?.keyId ?? null };
      } finally {
        progress.stop();
      }
    } finally {
      await signer?.close();
    }
  });
}

function printExport(out: string, { result, signedBy }: Exported, json: boolean): void {
  const { range, anchor } = result.manifest;
  if (result.unsealedLeftOut) process.stderr.write(`note: events after position ${range.toPosition} are not sealed yet and were left out (run "keyledger audit seal" first)\n`);
  if (json) return print(JSON.stringify(result.manifest, null, 2));
  print(`wrote ${out}: ${plural(range.sealedEvents, 'event')} from position ${range.fromPosition} to ${range.toPosition}, proved in checkpoint #${anchor.sequence} (root ${anchor.rootHash})`);
  print(signedBy ? `manifest signed with audit key ${signedBy}` : 'manifest not signed: no audit signing key in the data dir');
}

/** Opens the configured store (as `principals` does), runs `work`, closes it. */
async function withStore<T>(work: (store: EventStore, dataDir: string) => Promise<T>): Promise<T> {
  const [{ loadConfig }, { openStores }] = await Promise.all([import('../../api/src/config.js'), import('../../api/src/engine.js')]);
  const config = loadConfig();
  const dataDir = resolve(config.dataDir);
  const stores = openStores(config, dataDir);
  try {
    await stores.ready();
    return await work(stores.eventStore, dataDir);
  } finally {
    await stores.eventStore.close();
  }
}

async function trustedKeys(files: string[] | undefined, dataDir: string): Promise<Buffer[]> {
  const { rawPublicKeyFromPem } = await import('@keyledger/audit');
  if (files) return files.flatMap((file) => pemBlocks(readFileSync(file, 'utf8')).map(rawPublicKeyFromPem));
  // No key yet means no checkpoint from this data dir: the report then says what there is to say.
  const own = await ownPublicKey(dataDir);
  return own ? [own] : [];
}

/** The configured signer's public key (data dir file, or PKCS#11 token), or null when none was created yet. Creates nothing. */
async function ownPublicKey(dataDir: string): Promise<Buffer | null> {
  const [{ loadConfig }, { openExistingAuditSigner }] = await Promise.all([import('../../api/src/config.js'), import('../../api/src/custodians.js')]);
  const signer = await openExistingAuditSigner(loadConfig(), dataDir);
  try {
    return signer?.publicKey ?? null;
  } finally {
    await signer?.close();
  }
}

const pemBlocks = (text: string): string[] => text.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];

function expectedCheckpointOf(text: string): ExpectedCheckpoint {
  const match = /^(\d{1,12})(?::([0-9a-f]{64}))?$/.exec(text);
  if (!match) throw new Error('--expect-checkpoint must be a checkpoint sequence, optionally followed by ":" and its root hash in hex');
  return { sequence: Number(match[1]), ...(match[2] ? { rootHash: match[2] } : {}) };
}

/** The summary, then one line per failure; the exit code says whether it held. */
function printReport(report: VerifyReport | BundleReport, json: boolean): void {
  if (json) print(JSON.stringify(report, null, 2));
  else {
    print(report.summary);
    for (const failure of report.failures) print(`  - [${failure.kind}] ${failure.message}`);
    if (report.failureCount > report.failures.length) print(`  … and ${report.failureCount - report.failures.length} more`);
  }
  if (!report.intact) process.exitCode = VERIFICATION_FAILED_EXIT_CODE;
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** A progress bar on standard error, only when a person is watching (stdout is a terminal). */
function progressBar(label: string): { update(value: number, total: number): void; stop(): void } {
  if (!process.stdout.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total}`, hideCursor: true }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update(value, total) {
      if (!started) bar.start(total, 0);
      started = true;
      bar.setTotal(total);
      bar.update(Math.min(value, total));
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
