import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Boundaries the code must keep (STYLE.md): a pure domain, and each client library in its adapter. */
const ROOT = join(__dirname, '..');

const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });

const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => (m[1] ?? m[2])!,
  );

describe('architecture', () => {
  it('keeps libs/domain pure: it imports only its own files', () => {
    const offending = sources(join(ROOT, 'libs/domain/src')).flatMap((file) =>
      importsOf(file)
        .filter((spec) => !spec.startsWith('./') && !spec.startsWith('../'))
        .map((spec) => `${relative(ROOT, file)} imports ${spec}`),
    );
    expect(sources(join(ROOT, 'libs/domain/src')).length).toBeGreaterThan(5);
    expect(offending).toEqual([]);
  });

  it.each([
    // The bench measures the raw client beside each adapter (SPEC §10: ratios to the raw limit).
    ['better-sqlite3', ['libs/event-store-sqlite/', 'libs/custody/src/software/material-store.ts', 'libs/read-models/src/storage/sqlite/', 'apps/cli/src/bench/raw-limits.ts']],
    ['pg', ['libs/event-store-postgres/', 'apps/cli/src/bench/raw-limits.ts', 'apps/cli/src/bench/scratch-database.ts']],
    ['@eventstore/db-client', ['libs/event-store-esdb/']],
    ['pkcs11js', ['libs/custody-pkcs11/']],
    ['@aws-sdk/client-kms', ['libs/custody-aws-kms/']],
  ])('lets only its adapter import %s', (library, allowed) => {
    const all = [...sources(join(ROOT, 'libs')), ...sources(join(ROOT, 'apps'))];
    const importers = all
      .filter((file) => importsOf(file).includes(library))
      .map((file) => relative(ROOT, file))
      .filter((file) => !allowed.some((prefix) => file.startsWith(prefix)));
    expect(importers).toEqual([]);
  });

  // The application knows only the port: which store runs is decided in one place (other storage
  // adapters, such as the read models' PostgreSQL storage, may build on a store adapter's database).
  it.each(['@keyledger/event-store-sqlite', '@keyledger/event-store-postgres', '@keyledger/event-store-esdb'])(
    'keeps the store adapter %s out of the domain, the application and the edge: only the composition root picks it',
    (adapter) => {
      const importers = [...sources(join(ROOT, 'libs')), ...sources(join(ROOT, 'apps'))]
        .filter((file) => importsOf(file).includes(adapter))
        .map((file) => relative(ROOT, file));
      const misplaced = importers.filter(
        (file) => /^libs\/(domain|application)\//.test(file) || (file.startsWith('apps/') && file !== 'apps/api/src/stores.ts'),
      );
      expect(importers).toContain('apps/api/src/stores.ts');
      expect(misplaced).toEqual([]);
    },
  );

  // The application and the edge know only the custody port: the custodian is chosen in one place.
  it.each(['@keyledger/custody-pkcs11', '@keyledger/custody-aws-kms'])('lets only the composition root pick the custodian %s', (adapter) => {
    const importers = [...sources(join(ROOT, 'libs')), ...sources(join(ROOT, 'apps'))]
      .filter((file) => importsOf(file).includes(adapter))
      .map((file) => relative(ROOT, file));
    expect(importers).toEqual(['apps/api/src/custodians.ts']);
  });
});
