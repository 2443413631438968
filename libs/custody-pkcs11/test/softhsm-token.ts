import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

/** A fresh SoftHSM2 token in a private temp dir, as the test command sets one up. */
export interface SoftHsmToken {
  readonly modulePath: string;
  readonly label: string;
  readonly pin: string;
  readonly pinFile: string;
  /** What a child process needs to find the token, and the server configuration naming it. */
  readonly env: Record<string, string>;
  cleanup(): void;
}

export function softHsmModule(): string {
  const found = MODULE_CANDIDATES.find((path) => existsSync(path));
  if (!found) throw new Error('SoftHSM2 is not installed: run scripts/ensure-softhsm.sh (apt-get install -y softhsm2 opensc)');
  return found;
}

/**
 * The SoftHSM2 configuration of this test process: a temp token directory of its own.
 * SOFTHSM2_CONF is read by the native module (getenv at C_Initialize), so it must be in the real
 * environment of the process. Under jest `process.env` is a sandboxed copy; `loadEnvFile` writes
 * the real one. It is set once per process (a later value would not override it), and each
 * test token gets its own label inside that directory.
 */
function processSoftHsmConf(): string {
  const existing = process.env.SOFTHSM2_CONF;
  if (existing && existing.includes('keyledger-softhsm-')) return existing;
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-softhsm-'));
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const envFile = join(dir, 'env');
  writeFileSync(envFile, `SOFTHSM2_CONF=${conf}\n`);
  process.loadEnvFile(envFile);
  process.env.SOFTHSM2_CONF = conf;
  return conf;
}

/** Initializes a fresh token (unique label, random PIN) in this process's SoftHSM2 token directory. */
export function createSoftHsmToken(prefix = 'keyledger-test'): SoftHsmToken {
  const modulePath = softHsmModule();
  const conf = processSoftHsmConf();
  const label = `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-pin-'));
  const pin = `pin-${Math.random().toString(36).slice(2, 12)}`;
  const pinFile = join(dir, 'pin');
  writeFileSync(pinFile, `${pin}\n`, { mode: 0o600 });
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', `so-${pin}`], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
    stdio: 'ignore',
  });
  return {
    modulePath,
    label,
    pin,
    pinFile,
    env: {
      SOFTHSM2_CONF: conf,
      KEYLEDGER_CUSTODIAN: 'pkcs11',
      KEYLEDGER_PKCS11_MODULE: modulePath,
      KEYLEDGER_PKCS11_TOKEN_LABEL: label,
      KEYLEDGER_PKCS11_PIN_FILE: pinFile,
    },
    cleanup: () => {
      execFileSync('softhsm2-util', ['--delete-token', '--token', label], { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Lists the token's objects from a separate process (pkcs11-tool), an outside witness. */
export function listTokenObjects(token: SoftHsmToken): string {
  return execFileSync(
    'pkcs11-tool',
    ['--module', token.modulePath, '--token-label', token.label, '--login', '--pin', token.pin, '--list-objects'],
    // pkcs11-tool warns on stderr for every sensitive CKA_VALUE it may not read: that is the point.
    { env: { ...process.env, ...token.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
}
