// Share links: the text travels compressed in the URL fragment and comes back exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';

import { useBrowser, shots, INPUT } from './helpers.mjs';

const env = useBrowser();

// Unicode, CRLF-free but with trailing spaces and blank lines: it must come back byte for byte.
const TEXT = `# Café cluster — shared 🚀
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a   
spec:
  cidr: 10.7.0.0/16


kind: Frobnicator
`;

test('a share link restores the exact text in a fresh browser', async () => {
  const { context, page, problems } = await env.openPage();
  await page.fill(INPUT, TEXT);
  await page.click('[data-testid="share"]');
  const link = await page.locator('[data-testid="share-link"]').inputValue();
  assert.ok(link.startsWith(`${env.origin}/#v1:`), link);
  assert.match(link.slice(link.indexOf('#v1:') + 4), /^[A-Za-z0-9_-]+$/);
  await page.screenshot({ path: join(shots, 'share.png') });
  assert.deepEqual(problems, []);
  await context.close();

  // A different browser profile: no localStorage in common.
  const fresh = await env.browser.newContext();
  const other = await fresh.newPage();
  const otherProblems = [];
  other.on('pageerror', (e) => otherProblems.push(e.message));
  await other.goto(link);
  await other.locator(INPUT).waitFor();
  assert.equal(await other.inputValue(INPUT), TEXT);
  // The fragment is read once and leaves the address bar, so later edits survive reloads.
  assert.equal(new URL(other.url()).hash, '');
  await other.fill(INPUT, `${TEXT}# edited\n`);
  await other.waitForTimeout(300);
  await other.reload();
  await other.locator(INPUT).waitFor();
  assert.equal(await other.inputValue(INPUT), `${TEXT}# edited\n`);
  assert.deepEqual(otherProblems, []);
  await fresh.close();
});

test('opening a share link offers the text it replaced back', async () => {
  const { context, page, problems } = await env.openPage();
  await page.fill(INPUT, 'kind: Mine\n');
  await page.click('[data-testid="share"]');
  const mine = await page.locator('[data-testid="share-link"]').inputValue();
  await page.fill(INPUT, 'kind: Other\n');
  await page.waitForTimeout(300);
  // Same profile: the stored text is "kind: Other"; the link brings "kind: Mine".
  await page.goto(mine);
  await page.locator(INPUT).waitFor();
  assert.equal(await page.inputValue(INPUT), 'kind: Mine\n');
  await page.click('[data-testid="undo"]');
  assert.equal(await page.inputValue(INPUT), 'kind: Other\n');
  assert.deepEqual(problems, []);
  await context.close();
});

/** Stores "kind: Kept" in the page, opens `fragment`, and checks that the stored text stayed. */
async function openKeepingStoredText(page, fragment) {
  await page.fill(INPUT, 'kind: Kept\n');
  await page.waitForTimeout(300);
  await page.goto(`${env.origin}/#${fragment}`);
  await page.locator(INPUT).waitFor();
  assert.equal(await page.inputValue(INPUT), 'kind: Kept\n');
}

test('a damaged share link falls back to the stored text', async () => {
  const { context, page, problems } = await env.openPage();
  await openKeepingStoredText(page, 'v1:@@@not-a-link');
  assert.deepEqual(problems, []);
  await context.close();
});

// Links the page wrote while it compressed with miniz_oxide (level 9), before the browser's
// CompressionStream took over; web/src/share.rs reads the same two links in its unit tests.
const OLD_V1 = 'v1:LcwxCsJAEEDRfk4xYO2aIChsKwh2qezH2VXGbHbCZLXOIaxsrD2HN_EEHsEItg_-n-GGjq8ncroMJRq-'
  + 'xxtqCpgkt_h53EegXvbRBtHssTc9Ry5MSVid2mlxXUIrOXjcNY1qgi4WClTIA2KmLk7NxHNCRBj6yD9nCeax'
  + 'rtzaVa5a1CuA_2RresjCVNTgCw';
const OLD_V1_TEXT = TEXT.replace('shared', 'old link');
const OLD_V2 = 'v2:LclBCsIwEAXQ_Zzig_uYgBScGwguunIjLoZk0MEmKU3onTyHFyuFbt-7DCyzPXRpVgtjDfS1khh3a52s'
  + 'a26M54tOmGxV_H9H38ax1omydknShQkokpURP1LeSm3WuGO0tDCCd1fnnT-HgTY';

test('links written by the earlier compressor still open', async () => {
  const { context, page, problems } = await env.openPage();
  await page.goto(`${env.origin}/#${OLD_V1}`);
  await page.locator(INPUT).waitFor();
  assert.equal(await page.inputValue(INPUT), OLD_V1_TEXT);
  // Opened in a tab already showing the planner: only the fragment changes.
  await page.evaluate((hash) => { window.location.hash = hash; }, OLD_V2);
  await page.waitForFunction(
    (input) => document.querySelector(input).value.includes('name: change'), INPUT);
  assert.equal(await page.inputValue(INPUT),
    'kind: IPPool\nmetadata:\n  name: change\nspec:\n  cidr: 10.9.0.0/16\n');
  assert.equal(await page.inputValue('[data-testid="existing-input"]'),
    'apiVersion: v1\nkind: List\nitems: []\n# live é\n');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a link that inflates past 4 MiB is refused and the stored text kept', async () => {
  const { context, page, problems } = await env.openPage();
  const bomb = deflateRawSync(Buffer.alloc((4 << 20) + 1, 'a'), { level: 9 }).toString('base64url');
  await openKeepingStoredText(page, `v1:${bomb}`);
  // A small link of the same kind opens, so the refusal is the limit's doing.
  const small = deflateRawSync(Buffer.from('kind: Small\n'), { level: 9 }).toString('base64url');
  await page.goto(`${env.origin}/#v1:${small}`);
  await page.locator(INPUT).waitFor();
  assert.equal(await page.inputValue(INPUT), 'kind: Small\n');
  assert.deepEqual(problems, []);
  await context.close();
});
