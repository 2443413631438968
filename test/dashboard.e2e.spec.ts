/// <reference lib="dom" />
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bootServer, type TestServer } from './support/server.js';

/**
 * The dashboard in a real headless Chromium (Debian's, never a downloaded browser): sign in,
 * inventory, drill-down, filters, point in time, compliance, audit, charts, verify. Screenshots
 * of each view are saved under test-artifacts/dashboard.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', 'test-artifacts', 'dashboard');

describe('dashboard in a browser', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let kekId: string;
  let dekId: string;
  let before: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: npm test installs Debian's chromium (scripts/ensure-chromium.sh)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await bootServer({ KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS: '0' });
    const post = (path: string, body: unknown = {}) => server.call('POST', path, { body });
    kekId = (await post('/v1/keys', { tenantId: 'acme', purpose: 'kek', classifications: ['ephi'], label: 'acme KEK' })).body.id;
    await post(`/v1/keys/${kekId}/activate`);
    dekId = (await post('/v1/keys', { tenantId: 'acme', purpose: 'dek', parentKeyId: kekId, label: 'acme DEK' })).body.id;
    await post(`/v1/keys/${dekId}/activate`);
    for (let i = 0; i < 3; i++) await post(`/v1/keys/${kekId}/data-keys`);
    await post('/v1/keys', { tenantId: 'globex', purpose: 'kek', label: 'globex KEK' });
    await new Promise((r) => setTimeout(r, 1100));
    before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 1100));
    await post(`/v1/keys/${dekId}/rotate`);
    await post(`/v1/keys/${dekId}/revoke`, { version: 1, reason: 'compromised', compromisedAt: new Date(Date.now() - 60_000).toISOString() });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Playwright gives each launch a fresh, empty profile of its own.
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  it('says so when the token is wrong', async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.fill('#token', 'klt_wrong_token_aaaaaaaaaaaaaaaaaaaaaaaa');
    await page.click('#sign-in-form button');
    await page.waitForSelector('#sign-in-error:not([hidden])');
    expect(await page.textContent('#sign-in-error')).toContain('401');
    await shot('sign-in-error');
  });

  it('shows the inventory after signing in, filters it, and opens a key', async () => {
    await page.fill('#token', server.adminToken);
    await page.click('#sign-in-form button');
    await page.waitForSelector('#inventory-table tbody tr');
    expect(await page.locator('#inventory-table tbody tr').count()).toBe(3);
    await shot('inventory');
    await page.fill('#inventory-filters input[name=tenantId]', 'acme');
    await page.click('#inventory-filters button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#inventory-table tbody tr').length === 2);
    await page.click(`#inventory-table tr[data-key="${dekId}"]`);
    await page.waitForSelector('#key-detail:not([hidden]) #versions-table');
    const states = await page.locator('#versions-table tbody tr td:nth-child(2)').allTextContents();
    expect(states).toEqual(['compromised', 'active']);
    expect(await page.locator('#timeline li').count()).toBeGreaterThanOrEqual(4);
    await shot('key-detail');
  });

  it('shows the inventory as it was at an earlier instant', async () => {
    const local = new Date(Date.parse(before) - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    await page.fill('#inventory-filters input[name=at]', local);
    await page.click('#inventory-filters button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#inventory-caption')?.textContent?.includes('as of'));
    await page.click(`#inventory-table tr[data-key="${dekId}"]`);
    await page.waitForFunction(() => document.querySelectorAll('#versions-table tbody tr').length === 1);
    expect(await page.locator('#versions-table tbody tr td:nth-child(2)').allTextContents()).toEqual(['active']);
    await shot('inventory-point-in-time');
    await page.click('#inventory-now');
  });

  it('shows compliance findings grouped by rule, with references and evidence', async () => {
    await page.click('#tabs button[data-view=compliance]');
    await page.waitForSelector('.finding-group[data-rule="classification-missing"]');
    const group = page.locator('.finding-group[data-rule="classification-missing"]');
    expect(await group.locator('.ref').textContent()).toContain('164.308(a)(1)(ii)(B)');
    expect(await group.textContent()).toContain(dekId);
    expect(await page.locator('#compliance-summary .tile[data-tenant="acme"]').count()).toBe(1);
    await shot('compliance');
  });

  it('browses the audit view with a filter and exports it', async () => {
    await page.click('#tabs button[data-view=audit]');
    await page.waitForSelector('#audit-table tbody tr');
    await page.fill('#audit-filters input[name=operation]', 'rotate');
    await page.click('#audit-filters button[type=submit]');
    await page.waitForFunction(() => [...document.querySelectorAll('#audit-table tbody tr td:nth-child(7)')].every((td) => td.textContent === 'rotate'));
    expect(await page.locator('#audit-table tbody tr').count()).toBe(1);
    const download = page.waitForEvent('download');
    await page.click('[data-export=csv]');
    const file = await (await download).path();
    expect(require('node:fs').readFileSync(file, 'utf8')).toContain('rotate');
    await shot('audit');
  });

  it('draws the charts', async () => {
    await page.click('#tabs button[data-view=charts]');
    await page.waitForFunction(() => (window as unknown as { Chart?: { getChart(id: string): unknown } }).Chart?.getChart('chart-denials') !== undefined);
    const drawn = await page.evaluate(() =>
      ['chart-states', 'chart-rotations', 'chart-uses', 'chart-denials'].map((id) => (window as unknown as { Chart: { getChart(id: string): unknown } }).Chart.getChart(id) !== undefined),
    );
    expect(drawn).toEqual([true, true, true, true]);
    const usesToday = await page.evaluate(() => {
      const chart = (window as unknown as { Chart: { getChart(id: string): { data: { datasets: { data: number[] }[] } } } }).Chart.getChart('chart-uses');
      return chart.data.datasets[0]!.data.at(-1);
    });
    expect(usesToday).toBe(3);
    await shot('charts');
  });

  it('runs an integrity verification', async () => {
    await page.click('#tabs button[data-view=verify]');
    await page.click('#verify-run');
    await page.waitForFunction(() => !document.querySelector('#verify-result')?.textContent?.startsWith('Verifying'));
    expect(await page.textContent('#verify-result')).not.toBe('');
    await shot('verify');
  });

  it('stays usable in a narrow window', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    await page.click('#tabs button[data-view=inventory]');
    await page.waitForSelector('#inventory-table tbody tr');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(400);
    await shot('inventory-narrow');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('never receives key material', async () => {
    const bodies: string[] = [];
    page.on('response', async (res) => {
      if (res.url().includes('/v1/')) bodies.push(await res.text().catch(() => ''));
    });
    await page.click('#tabs button[data-view=inventory]');
    await page.click(`#inventory-table tr[data-key="${kekId}"]`);
    await page.waitForSelector('#key-detail:not([hidden])');
    const seen = bodies.join('\n');
    expect(seen).not.toMatch(/"(plaintext|wrappedKey|material|ciphertextBlob)"\s*:\s*"[A-Za-z0-9+/=]{20,}"/);
    expect(seen).toContain(kekId);
  });
});
