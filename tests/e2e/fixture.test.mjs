// The allocation views (table, utilization, address map, tunnels) drawn from the development
// fixture (web/src/fixture.rs): a build made with `--features fixture`, never the release.
// Runs only when FIXTURE_DIST names such a build:
//   trunk build --offline --features fixture --dist /tmp/dist-fixture
//   FIXTURE_DIST=/tmp/dist-fixture node --test fixture.test.mjs
// Once the core's simulator fills the release build's results, these checks move to real
// examples and this file goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { useBrowser, shots } from './helpers.mjs';

const site = process.env.FIXTURE_DIST;
const env = site ? useBrowser(site) : null;
const skip = site ? false : 'set FIXTURE_DIST to a `--features fixture` build';

test('allocation rows carry the contract attributes, and a block opens its address map', { skip }, async () => {
  const { context, page, problems } = await env.openPage();
  const rows = page.locator('[data-testid="allocation"]');
  await rows.first().waitFor();
  const pods = await rows.evaluateAll((rs) => rs.map((r) => [r.dataset.pod, r.dataset.ips, r.dataset.source]));
  assert.deepEqual(pods[0], ['default/web-0', '10.244.0.17', 'auto']);
  assert.deepEqual(pods[3], ['default/database', '10.245.0.10', 'static']);
  assert.deepEqual(pods[4], ['default/overflow', '', 'none']);
  assert.equal(await page.locator('[data-testid="pool-usage"]').count(), 3);
  assert.equal(await page.locator('[data-testid="pool-usage"][data-pool="v6"]').getAttribute('data-capacity'), String(2n ** 80n));
  assert.equal(await page.locator('[data-testid="tunnel"]').count(), 2);
  assert.equal(await page.locator('[data-testid="map-pool"]').count(), 3);
  await page.screenshot({ path: join(shots, 'fixture-results.png'), fullPage: true });

  // Pool → block → addresses, by keyboard.
  await page.locator('[data-testid="block"][data-cidr="10.244.0.0/26"]').focus();
  await page.keyboard.press('Enter');
  const detail = page.locator('[data-testid="block-detail"]');
  await detail.waitFor();
  assert.equal(await detail.locator('g.cell').count(), 64);
  assert.equal(await detail.locator('g.cell.reserved').count(), 16);
  assert.equal(await detail.locator('g.cell.tunnel').count(), 1);
  assert.equal(await detail.locator('g.cell.in-reservation').count(), 16);
  assert.match(await detail.locator('g.cell').nth(17).locator('title').textContent(), /10\.244\.0\.17 — pod default\/web-0 on node-1/);
  await detail.screenshot({ path: join(shots, 'fixture-block.png') });
  await page.click('text=← All blocks');
  await page.locator('[data-testid="map-pool"]').first().waitFor();

  // The block link of a table row opens the same view.
  await rows.nth(3).locator('button:has-text("10.245.0.0/28")').click();
  assert.equal(await detail.getAttribute('data-cidr'), '10.245.0.0/28');
  assert.equal(await detail.locator('g.cell.static').count(), 1);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the fixture in the dark colour scheme', { skip }, async () => {
  const { context, page, problems } = await env.openPage('/', { colorScheme: 'dark' });
  await page.locator('[data-testid="block"]').first().click();
  await page.locator('[data-testid="block-detail"]').waitFor();
  await page.screenshot({ path: join(shots, 'fixture-dark.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('"Apply fix" applies the edit to the text, and can be undone', { skip }, async () => {
  const { context, page, problems } = await env.openPage();
  const before = await page.inputValue('[data-testid="manifest-input"]');
  const diagnostic = page.locator('[data-testid="diagnostic"][data-code="fixture-fix"]');
  const line = Number(await diagnostic.getAttribute('data-line'));
  assert.equal(before.split('\n')[line - 1], '  natOutgoing: true');
  await diagnostic.locator('[data-testid="apply-fix"]').click();
  const after = await page.inputValue('[data-testid="manifest-input"]');
  assert.equal(after.split('\n')[line - 1], '  natOutgoing: false');
  assert.equal(after.replace('natOutgoing: false', 'natOutgoing: true'), before);
  await page.click('[data-testid="undo"]');
  assert.equal(await page.inputValue('[data-testid="manifest-input"]'), before);
  assert.deepEqual(problems, []);
  await context.close();
});
