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
    ['better-sqlite3', ['libs/event-store-sqlite/', 'libs/custody/src/software/material-store.ts']],
    ['pg', ['libs/event-store-postgres/']],
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
});
