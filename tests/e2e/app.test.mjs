// End-to-end tests of the page, in headless Chromium against the release build in dist/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { serve } from './serve.mjs';
import { launch } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.env.DIST_DIR ?? join(here, '..', '..', 'dist');
const shots = join(here, 'screenshots');

let server;
let browser;
let origin;

before(async () => {
  server = await serve(dist);
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await launch();
  await mkdir(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** A fresh page that records console errors and every request that leaves the origin. */
async function openPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) problems.push(`request off origin: ${r.url()}`);
  });
  await page.goto(`${origin}/`);
  await page.locator('[data-testid="manifest-input"]').waitFor();
  return { context, page, problems };
}

const POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 10.1.0.0/16
---
apiVersion: v1
kind: Pod
metadata:
  name: web-0
  namespace: shop
spec:
  nodeName: node-1
`;

test('lists the resources of a valid manifest', async () => {
  const { context, page, problems } = await openPage();
  await page.fill('[data-testid="manifest-input"]', POOL);
  const rows = page.locator('[data-testid="resource"]');
  await rows.nth(1).waitFor();
  assert.deepEqual(await rows.evaluateAll((rs) => rs.map((r) => `${r.dataset.kind}/${r.dataset.name}`)), [
    'IPPool/pool-a',
    'Pod/web-0',
  ]);
  assert.equal(await page.locator('[data-testid="diagnostic"][data-code="yaml-syntax"]').count(), 0);
  await page.screenshot({ path: join(shots, 'resources.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('locates a YAML syntax error, and keeps the input across a reload', async () => {
  const { context, page, problems } = await openPage();
  const broken = `${POOL}---\nkind: Pod\nmetadata:\n  name: [oops\n`;
  await page.fill('[data-testid="manifest-input"]', broken);
  const diagnostic = page.locator('[data-testid="diagnostic"][data-code="yaml-syntax"]');
  await diagnostic.waitFor();
  const line = Number(await diagnostic.getAttribute('data-line'));
  assert.ok(line >= 19 && line <= 21, `yaml-syntax at line ${line}`);
  assert.equal(await diagnostic.getAttribute('data-severity'), 'error');
  await page.screenshot({ path: join(shots, 'yaml-error.png'), fullPage: true });

  await page.reload();
  await page.locator('[data-testid="manifest-input"]').waitFor();
  assert.equal(await page.inputValue('[data-testid="manifest-input"]'), broken);
  await page.locator('[data-testid="diagnostic"][data-code="yaml-syntax"]').waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test('shows the example cluster on a first visit', async () => {
  const { context, page, problems } = await openPage();
  const text = await page.inputValue('[data-testid="manifest-input"]');
  assert.match(text, /kind: IPPool/);
  await page.locator('[data-testid="resource"]').first().waitFor();
  await page.screenshot({ path: join(shots, 'first-visit.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('exposes the JS API with the CLI JSON shape', async () => {
  const { context, page, problems } = await openPage();
  const report = await page.evaluate(() => window.ipamPlanner.check('kind: Foo\nmetadata: {name: x}\n'));
  assert.deepEqual(report.summary, { errors: 0, warnings: 0, infos: 1 });
  assert.equal(report.diagnostics[0].code, 'unsupported-kind');
  assert.equal(report.diagnostics[0].calico_message, null);
  assert.deepEqual(problems, []);
  await context.close();
});
