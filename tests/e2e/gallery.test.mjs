// The example gallery: every example loads exactly, parses cleanly, and can be undone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { useBrowser, shots, INPUT, examples } from './helpers.mjs';

const env = useBrowser();

test('each example loads its exact text and is valid YAML of the right shape', async () => {
  // review-live.yaml and review-change.yaml are the review example's two halves (review.test.mjs).
  const all = Object.fromEntries(Object.entries(await examples()).filter(([id]) => !id.startsWith('review-')));
  const { context, page, problems } = await env.openPage();
  const ids = await page.locator('[data-testid="example"]').evaluateAll((bs) => bs.map((b) => b.dataset.example));
  assert.deepEqual([...ids].sort(), Object.keys(all).sort());
  assert.ok(ids.length >= 9, `${ids.length} examples`);
  for (const id of ids) {
    await page.click(`[data-testid="example"][data-example="${id}"]`);
    assert.equal(await page.inputValue(INPUT), all[id], id);
    assert.equal(await page.locator(`[data-testid="example"][data-example="${id}"]`).getAttribute('aria-pressed'), 'true');
    // The results are those of this example (no wait: a loaded example is planned at once).
    const summary = page.locator('[data-testid="summary"]');
    assert.equal(await page.locator('.updating').count(), 0);
    const broken = await page
      .locator('[data-testid="diagnostic"][data-code="yaml-syntax"], [data-testid="diagnostic"][data-code="schema"], [data-testid="diagnostic"][data-code="unsupported-kind"]')
      .evaluateAll((ds) => ds.map((d) => `${d.dataset.code}@${d.dataset.line}: ${d.querySelector('.message').textContent}`));
    assert.deepEqual(broken, [], id);
    const resources = await page.locator('[data-testid="resource"]').count();
    assert.ok(resources >= 3, `${id}: ${resources} resources`);
    await summary.waitFor();
    await page.screenshot({ path: join(shots, `example-${id}.png`), fullPage: true });
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test('loading an example can be undone', async () => {
  const { context, page, problems } = await env.openPage();
  await page.fill(INPUT, 'kind: MyOwnWork\n');
  await page.click('[data-testid="example"][data-example="node-without-pool"]');
  assert.match(await page.inputValue(INPUT), /zone-c/);
  await page.click('[data-testid="undo"]');
  assert.equal(await page.inputValue(INPUT), 'kind: MyOwnWork\n');
  assert.equal(await page.locator('[data-testid="undo"]').count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});
