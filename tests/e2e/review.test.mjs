// Review mode: the manifests checked as a change to an existing cluster pasted beside them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { useBrowser, shots, root, INPUT, lineOf } from './helpers.mjs';

const env = useBrowser();

const EXISTING = '[data-testid="existing-input"]';
const fixture = (name) => readFile(join(root, 'tests', 'fixtures', 'review', 'pool-changes', name), 'utf8');
const diagnostic = (code) => `[data-testid="diagnostic"][data-code="${code}"]`;

async function fillBoth(page, live, change) {
  await page.fill(EXISTING, live);
  await page.fill(INPUT, change);
}

test('a change is reviewed against the existing cluster, and clearing it checks the change alone', async () => {
  const [live, change] = await Promise.all([fixture('live.yaml'), fixture('change.yaml')]);
  const { context, page, problems } = await env.openPage();
  await fillBoth(page, live, change);

  const refused = page.locator(diagnostic('pool-update-refused'));
  await refused.first().waitFor();
  const lines = await refused.evaluateAll((ds) => ds.map((d) => [Number(d.dataset.line), d.dataset.file ?? null]));
  assert.deepEqual(lines, [
    [lineOf(change, 'blockSize: 24'), null],
    [lineOf(change, 'allowedUses: [Workload]'), null],
  ]);
  assert.match(await refused.first().textContent(), /BlockSize cannot be modified/);
  const ignored = page.locator(diagnostic('annotation-change-ignored'));
  assert.equal(await ignored.getAttribute('data-line'), String(lineOf(change, 'cni.projectcalico.org/ipAddrs')));
  assert.equal(await page.locator(diagnostic('pool-disabled-in-use')).count(), 1);
  assert.equal(await page.locator(diagnostic('reservation-over-in-use')).count(), 1);
  await page.locator('[data-testid="review-mode"]').waitFor();

  // The running pod keeps its live address, not the one the change asks for.
  const api = page.locator('[data-testid="allocation"][data-pod="shop/api-0"]');
  assert.equal(await api.getAttribute('data-ips'), '10.96.64.10');
  assert.equal(await api.getAttribute('data-running'), 'true');
  const web = page.locator('[data-testid="allocation"][data-pod="shop/web-5f7c9d-x2k4p"]');
  assert.equal(await web.getAttribute('data-ips'), '10.244.84.129');

  // The change's gutter shows the change's diagnostics only, at the change's lines.
  const marked = await page.locator('[data-testid="gutter-marker"]').evaluateAll((ms) => ms.map((m) => Number(m.dataset.line)));
  const changeLines = await page
    .locator('[data-testid="diagnostic"]:not([data-file])')
    .evaluateAll((ds) => [...new Set(ds.map((d) => Number(d.dataset.line)).filter((n) => n > 0))].sort((a, b) => a - b));
  assert.deepEqual(marked, changeLines);

  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.evaluate(() => {
    window.scrollTo(0, 0);
    document.querySelector('[data-testid="existing-input"]').scrollTop = 0;
  });
  await page.screenshot({ path: join(shots, 'review.png') });

  // Both texts survive a reload.
  await page.waitForTimeout(300);
  await page.reload();
  await page.locator(INPUT).waitFor();
  assert.equal(await page.inputValue(EXISTING), live);
  assert.equal(await page.inputValue(INPUT), change);
  await page.locator(diagnostic('pool-update-refused')).first().waitFor();

  // Without the existing cluster the change is checked on its own again.
  await page.fill(EXISTING, '');
  await page.locator('[data-testid="review-mode"]').waitFor({ state: 'detached' });
  assert.equal(await page.locator(diagnostic('pool-update-refused')).count(), 0);
  assert.equal(await page.locator(diagnostic('annotation-change-ignored')).count(), 0);
  // Alone, the change's pod is a new pod (no live address, no live node to run on).
  assert.notEqual(await page.locator('[data-testid="allocation"][data-pod="shop/api-0"]').getAttribute('data-ips'), '10.96.64.10');
  assert.equal(await page.locator('[data-testid="allocation"][data-running]').count(), 0);
  await page.waitForTimeout(300);
  await page.reload();
  await page.locator(INPUT).waitFor();
  assert.equal(await page.inputValue(EXISTING), '');
  assert.equal(await page.inputValue(INPUT), change);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a diagnostic in the existing cluster says so and jumps there', async () => {
  const [live, change] = await Promise.all([fixture('live.yaml'), fixture('change.yaml')]);
  const broken = `${live}---\nkind: Pod\nmetadata:\n  name: [oops\n`;
  const { context, page, problems } = await env.openPage();
  await fillBoth(page, broken, change);
  const syntax = page.locator(`${diagnostic('yaml-syntax')}[data-file="existing"]`);
  await syntax.waitFor();
  const line = Number(await syntax.getAttribute('data-line'));
  assert.ok(line > live.split('\n').length - 1, `yaml-syntax at existing line ${line}`);
  const jump = syntax.locator('[data-testid="jump-to-line"]');
  assert.match(await jump.textContent(), new RegExp(`^existing cluster, line ${line}(:\\d+)?$`));
  assert.equal(await page.locator('[data-testid="existing-problems"]').count(), 1);
  // Not in the change's gutter (the change has fewer lines than that).
  assert.ok(line > change.split('\n').length);
  assert.equal(await page.locator(`[data-testid="gutter-marker"][data-line="${line}"]`).count(), 0);
  assert.equal(await page.locator('[data-testid="diagnostic"][data-file="existing"] [data-testid="apply-fix"]').count(), 0);

  // Keyboard: the jump is a button, and it selects the line in the existing cluster's text.
  await jump.focus();
  await page.keyboard.press('Enter');
  const sel = await page.evaluate(() => {
    const area = document.querySelector('[data-testid="existing-input"]');
    return {
      focused: document.activeElement === area,
      line: area.value.slice(0, area.selectionStart).split('\n').length,
    };
  });
  assert.deepEqual(sel, { focused: true, line });
  assert.deepEqual(problems, []);
  await context.close();
});

test('a share link carries both texts; a link without an existing cluster stays v1', async () => {
  const [live, change] = await Promise.all([fixture('live.yaml'), fixture('change.yaml')]);
  const { context, page, problems } = await env.openPage();
  await fillBoth(page, live, change);
  await page.click('[data-testid="share"]');
  const link = await page.locator('[data-testid="share-link"]').inputValue();
  assert.ok(link.startsWith(`${env.origin}/#v2:`), link);

  const fresh = await env.browser.newContext();
  const other = await fresh.newPage();
  const otherProblems = [];
  other.on('pageerror', (e) => otherProblems.push(e.message));
  await other.goto(link);
  await other.locator(INPUT).waitFor();
  assert.equal(await other.inputValue(EXISTING), live);
  assert.equal(await other.inputValue(INPUT), change);
  await other.locator(diagnostic('pool-update-refused')).first().waitFor();

  // A v1 link (no existing cluster) opened over a review replaces both texts, undoably.
  await page.fill(EXISTING, '');
  await page.fill(INPUT, 'kind: Plain\n');
  await page.click('[data-testid="share"]');
  const v1 = await page.locator('[data-testid="share-link"]').inputValue();
  assert.ok(v1.startsWith(`${env.origin}/#v1:`), v1);
  await other.goto(v1);
  await other.locator(INPUT).waitFor();
  assert.equal(await other.inputValue(INPUT), 'kind: Plain\n');
  assert.equal(await other.inputValue(EXISTING), '');
  await other.click('[data-testid="undo"]');
  assert.equal(await other.inputValue(EXISTING), live);
  assert.equal(await other.inputValue(INPUT), change);
  assert.deepEqual(otherProblems, []);
  assert.deepEqual(problems, []);
  await fresh.close();
  await context.close();
});

test('the review example fills both inputs, from the button or the gallery', async () => {
  const [live, change] = await Promise.all([
    readFile(join(root, 'static', 'examples', 'review-live.yaml'), 'utf8'),
    readFile(join(root, 'static', 'examples', 'review-change.yaml'), 'utf8'),
  ]);
  assert.equal(live, await fixture('live.yaml'));
  assert.equal(change, await fixture('change.yaml'));
  const { context, page, problems } = await env.openPage();
  const load = page.locator('[data-testid="load-review-example"]');
  await load.focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.inputValue(EXISTING), live);
  assert.equal(await page.inputValue(INPUT), change);
  await page.locator(diagnostic('pool-update-refused')).first().waitFor();
  assert.equal(await page.locator('[data-testid="review-example"]').getAttribute('aria-pressed'), 'true');

  // Clearing is undoable.
  await page.click('[data-testid="clear-existing"]');
  assert.equal(await page.inputValue(EXISTING), '');
  assert.equal(await page.locator(diagnostic('pool-update-refused')).count(), 0);
  await page.click('[data-testid="undo"]');
  assert.equal(await page.inputValue(EXISTING), live);

  // A plain example leaves review mode; the gallery's review example brings it back.
  await page.click('[data-testid="example"][data-example="healthy-cluster"]');
  assert.equal(await page.inputValue(EXISTING), '');
  await page.click('[data-testid="review-example"]');
  assert.equal(await page.inputValue(EXISTING), live);
  assert.equal(await page.inputValue(INPUT), change);
  assert.deepEqual(problems, []);
  await context.close();

  const dark = await env.openPage('/', { colorScheme: 'dark' });
  await dark.page.click('[data-testid="review-example"]');
  await dark.page.locator('[data-testid="review-mode"]').waitFor();
  await dark.page.setViewportSize({ width: 1400, height: 1000 });
  await dark.page.screenshot({ path: join(shots, 'review-dark.png') });
  assert.deepEqual(dark.problems, []);
  await dark.context.close();
});

test('embeds: the existing input is optional, and hidden when read-only', async () => {
  const live = await fixture('live.yaml');
  const { context, page, problems } = await env.openPage('/?embed&example=review-pool-changes');
  assert.equal(await page.inputValue(EXISTING), live);
  await page.locator(diagnostic('pool-update-refused')).first().waitFor();
  await page.setViewportSize({ width: 900, height: 640 });
  await page.screenshot({ path: join(shots, 'embed-review.png') });
  // The browser compresses the link asynchronously.
  const open = page.locator('[data-testid="open-in-planner"][href*="#v2:"]');
  await open.waitFor();
  const href = await open.getAttribute('href');
  assert.ok(href.startsWith(`${env.origin}/#v2:`), href);
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => localStorage.getItem('ipam-planner:existing')), null);

  const ro = await context.newPage();
  await ro.goto(`${env.origin}/?embed&readonly&example=review-pool-changes`);
  await ro.locator(INPUT).waitFor();
  assert.equal(await ro.locator(EXISTING).count(), 0);
  await ro.locator('[data-testid="existing-note"]').waitFor();
  await ro.locator(diagnostic('pool-update-refused')).first().waitFor();

  const plain = await context.newPage();
  await plain.goto(`${env.origin}/?embed&readonly&example=node-without-pool`);
  await plain.locator(INPUT).waitFor();
  assert.equal(await plain.locator('[data-testid="existing-note"]').count(), 0);
  assert.equal(await plain.locator(EXISTING).count(), 0);

  // An editable embed of a plain example: the input is there, empty, and nothing else changes.
  const editable = await context.newPage();
  await editable.goto(`${env.origin}/?embed&example=node-without-pool`);
  await editable.locator(EXISTING).waitFor();
  assert.equal(await editable.inputValue(EXISTING), '');
  assert.equal(await editable.locator('[data-testid="load-review-example"]').count(), 0);
  assert.equal(await editable.locator('[data-testid="review-mode"]').count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});
