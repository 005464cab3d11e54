// The allocation views (table, utilization, address map, tunnels) and "Apply fix", drawn from
// the engine's real simulation of the example cluster loaded on a first visit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { useBrowser, shots, INPUT } from './helpers.mjs';

const env = useBrowser();

test('allocation rows carry the contract attributes, and a block opens its address map', async () => {
  const { context, page, problems } = await env.openPage();
  const rows = page.locator('[data-testid="allocation"]');
  await rows.first().waitFor();
  const pods = await rows.evaluateAll((rs) => rs.map((r) => [r.dataset.pod, r.dataset.ips, r.dataset.source]));
  // Calico's own block order: node-1 probes 10.244.84.128/26 first, node-2 10.244.247.0/26; the
  // IPIP tunnel address takes each block's first ordinal at node start.
  assert.deepEqual(pods, [
    ['default/web-0', '10.244.84.129', 'auto'],
    ['default/web-1', '10.244.247.1', 'auto'],
    ['default/web-2', '10.244.84.130', 'auto'],
    ['default/database', '10.245.0.10', 'static'],
  ]);
  assert.equal(await page.locator('[data-testid="pool-usage"]').count(), 2);
  assert.equal(await page.locator('[data-testid="tunnel"]').count(), 2);
  assert.equal(await page.locator('[data-testid="map-pool"]').count(), 2);
  await page.screenshot({ path: join(shots, 'results.png'), fullPage: true });

  // Pool → block → addresses, by keyboard.
  await page.locator('[data-testid="block"][data-cidr="10.244.84.128/26"]').focus();
  await page.keyboard.press('Enter');
  const detail = page.locator('[data-testid="block-detail"]');
  await detail.waitFor();
  assert.equal(await detail.locator('g.cell').count(), 64);
  assert.equal(await detail.locator('g.cell.tunnel').count(), 1);
  assert.match(await detail.locator('g.cell').nth(1).locator('title').textContent(), /10\.244\.84\.129 — pod default\/web-0 on node-1/);
  await detail.screenshot({ path: join(shots, 'block.png') });
  await page.click('text=← All blocks');
  await page.locator('[data-testid="map-pool"]').first().waitFor();

  // The block link of a table row opens the same view.
  await rows.nth(3).locator('button:has-text("10.245.0.0/28")').click();
  assert.equal(await detail.getAttribute('data-cidr'), '10.245.0.0/28');
  assert.equal(await detail.locator('g.cell.static').count(), 1);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the results in the dark colour scheme', async () => {
  const { context, page, problems } = await env.openPage('/', { colorScheme: 'dark' });
  await page.locator('[data-testid="block"]').first().click();
  await page.locator('[data-testid="block-detail"]').waitFor();
  await page.screenshot({ path: join(shots, 'results-dark.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

const UNPROTECTED = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pods
spec:
  cidr: 10.1.0.0/16
---
apiVersion: v1
kind: Pod
metadata:
  name: db
  annotations:
    cni.projectcalico.org/ipAddrs: '["10.1.2.3"]'
spec:
  nodeName: node-1
`;

test('"Apply fix" applies the edit to the text, the diagnostic goes, and undo restores', async () => {
  const { context, page, problems } = await env.openPage();
  await page.fill(INPUT, UNPROTECTED);
  const diagnostic = page.locator('[data-testid="diagnostic"][data-code="static-ip-unprotected"]');
  await diagnostic.waitFor();
  assert.equal(await diagnostic.getAttribute('data-line'), '13');
  await diagnostic.locator('[data-testid="apply-fix"]').click();
  await diagnostic.waitFor({ state: 'detached' });
  const after = await page.inputValue(INPUT);
  assert.match(after, /kind: IPReservation[\s\S]*- 10\.1\.2\.3\/32\n---\napiVersion: v1\nkind: Pod/);
  // The fixed text checks clean: no diagnostic at all.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="diagnostic"]').length === 0);
  await page.click('[data-testid="undo"]');
  assert.equal(await page.inputValue(INPUT), UNPROTECTED);
  assert.deepEqual(problems, []);
  await context.close();
});
