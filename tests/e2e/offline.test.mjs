// Offline and private: a service worker keeps the site working without a network after the
// first visit; the page is sealed by a CSP that allows nothing off the origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { useBrowser, shots, INPUT } from './helpers.mjs';

const env = useBrowser();

test('the service worker registers, and the page then works offline', async () => {
  const { context, page, problems } = await env.openPage();
  const script = await page.evaluate(async () => (await navigator.serviceWorker.ready).active.scriptURL);
  assert.equal(script, `${env.origin}/sw.js`);
  await page.fill(INPUT, 'kind: Offline\nmetadata: {name: o}\n');
  await page.waitForTimeout(300);

  await context.setOffline(true);
  await page.reload();
  await page.locator(INPUT).waitFor();
  assert.equal(await page.inputValue(INPUT), 'kind: Offline\nmetadata: {name: o}\n');
  await page.locator('[data-testid="diagnostic"][data-code="unsupported-kind"]').waitFor();
  // The embed view too: the worker serves the page shell for any query.
  await page.goto(`${env.origin}/?embed&example=healthy-cluster`);
  await page.locator(INPUT).waitFor();
  assert.match(await page.inputValue(INPUT), /kind: IPPool/);
  await page.screenshot({ path: join(shots, 'offline.png') });
  assert.deepEqual(problems, []);
  await context.close();
});

test('the page is sealed by a CSP that allows no other origin', async () => {
  const { context, page, problems } = await env.openPage();
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /connect-src 'self'/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.match(csp, /worker-src 'self'/);
  // An attempt to reach another origin (a closed loopback port) is refused by the CSP itself.
  const violation = await page.evaluate(async () => {
    const seen = new Promise((ok) => document.addEventListener('securitypolicyviolation', (e) => ok(e.violatedDirective)));
    const failed = await fetch('http://127.0.0.1:9/x').then(() => false, () => true);
    return failed ? await seen : 'fetch succeeded';
  });
  assert.equal(violation, 'connect-src');
  // No inline style attributes anywhere (the CSP would block them).
  assert.equal(await page.locator('[style]').count(), 0);
  assert.deepEqual(problems.filter((p) => !p.includes('127.0.0.1:9/')), []);
  await context.close();
});
