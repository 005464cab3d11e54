// The embed view for docs-site iframes: no header, the example's text, editable, never stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { useBrowser, shots, INPUT, examples } from './helpers.mjs';

const env = useBrowser();

test('?embed&example= shows that example compactly, without the header', async () => {
  const all = await examples();
  const { context, page, problems } = await env.openPage('/?embed&example=duplicate-static-ip');
  assert.equal(await page.inputValue(INPUT), all['duplicate-static-ip']);
  assert.equal(await page.locator('.app-header').count(), 0);
  assert.equal(await page.locator('[data-testid="example"]').count(), 0);
  await page.locator('[data-testid="embed-bar"]').waitFor();
  await page.locator('[data-testid="summary"]').waitFor();
  await page.setViewportSize({ width: 900, height: 640 });
  await page.screenshot({ path: join(shots, 'embed.png') });

  // Editable, with live results, but nothing is written to the reader's storage.
  await page.fill(INPUT, 'kind: Whatever\nmetadata: {name: w}\n');
  await page.locator('[data-testid="diagnostic"][data-code="unsupported-kind"]').waitFor();
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => localStorage.getItem('ipam-planner:input')), null);

  // "Open in the planner" carries the current text to the full page (the browser compresses it
  // asynchronously, so the link is awaited).
  const open = page.locator('[data-testid="open-in-planner"][href*="#v1:"]');
  await open.waitFor();
  const href = await open.getAttribute('href');
  assert.ok(href.startsWith(`${env.origin}/#v1:`), href);
  const full = await context.newPage();
  await full.goto(href);
  await full.locator(INPUT).waitFor();
  assert.equal(await full.inputValue(INPUT), 'kind: Whatever\nmetadata: {name: w}\n');
  assert.equal(await full.locator('.app-header').count(), 1);
  assert.deepEqual(problems, []);
  await context.close();
});

test('?embed with a share fragment shows the shared text, inside an iframe', async () => {
  const { context, page, problems } = await env.openPage();
  await page.fill(INPUT, 'kind: Shared\nmetadata: {name: s}\n');
  await page.click('[data-testid="share"]');
  const link = await page.locator('[data-testid="share-link"]').inputValue();
  const fragment = link.slice(link.indexOf('#'));
  // A docs page on the same origin embedding the planner.
  await page.setContent(`<iframe title="planner" width="900" height="600" src="${env.origin}/?embed${fragment}"></iframe>`);
  const frame = page.frameLocator('iframe');
  await frame.locator(INPUT).waitFor();
  assert.equal(await frame.locator(INPUT).inputValue(), 'kind: Shared\nmetadata: {name: s}\n');
  await frame.locator('[data-testid="diagnostic"][data-code="unsupported-kind"]').waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test('?embed&readonly shows the example without letting it be edited', async () => {
  const all = await examples();
  const { context, page, problems } = await env.openPage('/?embed&readonly&example=node-without-pool');
  const input = page.locator(INPUT);
  assert.equal(await input.inputValue(), all['node-without-pool']);
  assert.equal(await input.evaluate((el) => el.readOnly), true);
  await input.focus();
  await page.keyboard.type('typed');
  assert.equal(await input.inputValue(), all['node-without-pool']);
  assert.deepEqual(problems, []);
  await context.close();
});
