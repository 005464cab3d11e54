// The editor: diagnostics at their line, in the gutter and in the list; jumping to a line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { useBrowser, shots, INPUT, lineOf } from './helpers.mjs';

const env = useBrowser();

const TEXT = `# A pool, then a kind the planner does not model.
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 10.1.0.0/16
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
`;
const LINE = lineOf(TEXT, 'kind: ConfigMap');

test('a pasted manifest gets its diagnostic at the right line, in the list and the gutter', async () => {
  const { context, page, problems } = await env.openPage();
  await page.fill(INPUT, TEXT);
  const diagnostic = page.locator('[data-testid="diagnostic"][data-code="unsupported-kind"]');
  await diagnostic.waitFor();
  assert.equal(await diagnostic.getAttribute('data-line'), String(LINE));
  assert.equal(await diagnostic.getAttribute('data-severity'), 'info');
  assert.match(await diagnostic.textContent(), /ConfigMap/);

  const markers = page.locator('[data-testid="gutter-marker"]');
  assert.equal(await markers.count(), 1);
  assert.equal(await markers.getAttribute('data-line'), String(LINE));
  assert.equal(await markers.getAttribute('data-severity'), 'info');
  assert.match(await markers.getAttribute('title'), /ConfigMap.*unsupported-kind/);
  // One gutter row per line, and the line itself is tinted behind the text.
  assert.equal(await page.locator('.gutter-line').count(), TEXT.split('\n').length);
  const tinted = await page.locator('.line-mark').evaluateAll((rows) =>
    rows.flatMap((r, i) => (r.classList.contains('info') ? [i + 1] : [])),
  );
  assert.deepEqual(tinted, [LINE]);
  // Marker and tint sit level with their line of text.
  const [markerBox, tintBox] = await Promise.all([markers.boundingBox(), page.locator('.line-mark.info').boundingBox()]);
  assert.equal(markerBox.y, tintBox.y);
  await page.screenshot({ path: join(shots, 'editor-diagnostic.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('results follow typing without a reload', async () => {
  const { context, page, problems } = await env.openPage();
  await page.fill(INPUT, TEXT);
  await page.locator('[data-testid="diagnostic"][data-code="unsupported-kind"]').waitFor();
  // Type a second unknown kind at the end, key by key.
  await page.focus(INPUT);
  await page.keyboard.press('Control+End');
  await page.keyboard.type('---\nkind: Secret\nmetadata: {name: s}\n');
  await page.locator('[data-testid="diagnostic"][data-code="unsupported-kind"]').nth(1).waitFor();
  const lines = await page
    .locator('[data-testid="diagnostic"][data-code="unsupported-kind"]')
    .evaluateAll((ds) => ds.map((d) => Number(d.dataset.line)));
  assert.deepEqual(lines, [LINE, TEXT.split('\n').length + 1]);
  assert.equal(await page.locator('[data-testid="gutter-marker"]').count(), 2);
  assert.deepEqual(problems, []);
  await context.close();
});

async function selectedLine(page) {
  return page.evaluate(() => {
    const area = document.querySelector('[data-testid="manifest-input"]');
    return {
      focused: document.activeElement === area,
      selected: area.value.slice(area.selectionStart, area.selectionEnd),
      line: area.value.slice(0, area.selectionStart).split('\n').length,
    };
  });
}

test('clicking a diagnostic selects its line in the editor', async () => {
  const { context, page, problems } = await env.openPage();
  // Push the line far down so that it must also be scrolled into view.
  const long = `${'# filler\n'.repeat(80)}${TEXT}`;
  await page.fill(INPUT, long);
  const diagnostic = page.locator('[data-testid="diagnostic"][data-code="unsupported-kind"]');
  await diagnostic.waitFor();
  await diagnostic.locator('[data-testid="jump-to-line"]').click();
  const sel = await selectedLine(page);
  assert.deepEqual(sel, { focused: true, selected: 'kind: ConfigMap', line: 80 + LINE });
  // The text area scrolled to the line, and the gutter with it.
  const [areaTop, gutterTop] = await page.evaluate(() => [
    document.querySelector('[data-testid="manifest-input"]').scrollTop,
    document.querySelector('.gutter').scrollTop,
  ]);
  assert.ok(areaTop > 0, `scrollTop ${areaTop}`);
  assert.equal(gutterTop, areaTop);
  const marker = page.locator('[data-testid="gutter-marker"]');
  assert.ok(await marker.isVisible());
  await page.screenshot({ path: join(shots, 'jump-to-line.png') });

  // The gutter marker jumps too.
  await page.focus('[data-testid="share"]');
  await marker.click();
  assert.deepEqual(await selectedLine(page), { focused: true, selected: 'kind: ConfigMap', line: 80 + LINE });
  assert.deepEqual(problems, []);
  await context.close();
});
