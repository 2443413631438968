import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export interface Figure {
  readonly name: string;
  readonly store: string;
  readonly value: number;
  readonly unit: string;
  /** The raw limit this figure is read against, measured in the same run. */
  readonly limit?: { readonly name: string; readonly value: number };
}

export const machineFacts = () => ({
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  at: new Date().toISOString(),
});

const format = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? 1 : 2));

export const table = (figures: readonly Figure[]): string => {
  const rows = figures.map((f) => [
    f.name,
    f.store,
    `${format(f.value)} ${f.unit}`,
    f.limit ? `${f.limit.name}: ${format(f.limit.value)}` : '—',
    f.limit ? `${((f.value / f.limit.value) * 100).toFixed(1)} %` : '—',
  ]);
  const header = ['figure', 'store', 'value', 'raw limit (same run)', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
};

export const writeReport = (dir: string, figures: readonly Figure[]): string => {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine: machineFacts(), figures }, null, 2));
  return file;
};
