// End-to-end tests of the page, in headless Chromium against the release build in dist/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { useBrowser, shots, INPUT } from './helpers.mjs';

const env = useBrowser();

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
  const { context, page, problems } = await env.openPage();
  await page.fill(INPUT, POOL);
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
  const { context, page, problems } = await env.openPage();
  const broken = `${POOL}---\nkind: Pod\nmetadata:\n  name: [oops\n`;
  await page.fill(INPUT, broken);
  const diagnostic = page.locator('[data-testid="diagnostic"][data-code="yaml-syntax"]');
  await diagnostic.waitFor();
  const line = Number(await diagnostic.getAttribute('data-line'));
  assert.ok(line >= 19 && line <= 21, `yaml-syntax at line ${line}`);
  assert.equal(await diagnostic.getAttribute('data-severity'), 'error');
  await page.screenshot({ path: join(shots, 'yaml-error.png'), fullPage: true });

  await page.reload();
  await page.locator(INPUT).waitFor();
  assert.equal(await page.inputValue(INPUT), broken);
  await page.locator('[data-testid="diagnostic"][data-code="yaml-syntax"]').waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test('texts are stored as JSON strings, and those stored by earlier builds are read', async () => {
  const { context, page, problems } = await env.openPage();
  // What the page wrote while it stored through gloo-storage (serde_json): a JSON string.
  await page.evaluate(() => {
    localStorage.setItem('ipam-planner:input', '"kind: Stored \u00e9\\n# \\"quoted\\"\\n"');
    localStorage.setItem('ipam-planner:existing', '"kind: List\\nitems: []\\n"');
  });
  await page.reload();
  await page.locator(INPUT).waitFor();
  assert.equal(await page.inputValue(INPUT), 'kind: Stored \u00e9\n# "quoted"\n');
  assert.equal(await page.inputValue('[data-testid="existing-input"]'), 'kind: List\nitems: []\n');
  await page.fill(INPUT, 'kind: New\n\t"x"\n');
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => localStorage.getItem('ipam-planner:input')),
    '"kind: New\\n\\t\\"x\\"\\n"');
  assert.deepEqual(problems, []);
  await context.close();
});

test('shows the example cluster on a first visit', async () => {
  const { context, page, problems } = await env.openPage();
  const text = await page.inputValue(INPUT);
  assert.match(text, /kind: IPPool/);
  await page.locator('[data-testid="resource"]').first().waitFor();
  assert.equal(await page.locator('[data-testid="example"][aria-pressed="true"]').getAttribute('data-example'), 'healthy-cluster');
  await page.screenshot({ path: join(shots, 'first-visit.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('is readable in the dark colour scheme', async () => {
  const { context, page, problems } = await env.openPage('/', { colorScheme: 'dark' });
  const [bg, fg] = await page.evaluate(() => {
    const s = getComputedStyle(document.body);
    return [s.backgroundColor, s.color];
  });
  assert.equal(bg, 'rgb(20, 23, 28)');
  assert.equal(fg, 'rgb(227, 231, 238)');
  await page.screenshot({ path: join(shots, 'first-visit-dark.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('the keyboard reaches the controls, with a visible focus ring', async () => {
  const { context, page, problems } = await env.openPage();
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => {
    const el = document.activeElement;
    return { tag: el.tagName, outline: getComputedStyle(el).outlineStyle, testid: el.dataset.testid };
  });
  assert.equal(focused.tag, 'BUTTON');
  assert.equal(focused.testid, 'share');
  assert.equal(focused.outline, 'solid');
  // The gallery follows, one button per example.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'example');
  assert.deepEqual(problems, []);
  await context.close();
});

test('an aborted panic shows a notice instead of a silently dead page', async () => {
  const { context, page, problems } = await env.openPage();
  await page.locator('[data-testid="resource"]').first().waitFor();
  const notice = page.locator('[data-testid="abort-notice"]');
  // The release build's panics abort at once: the browser throws a WebAssembly.RuntimeError out
  // of the event (or promise) that hit the bug. Other errors are not the planner's to report.
  await page.evaluate(() => setTimeout(() => { throw new TypeError('not ours'); }));
  await page.waitForTimeout(100);
  assert.equal(await notice.count(), 0);
  await page.evaluate(() => {
    Promise.reject(new WebAssembly.RuntimeError('unreachable'));
  });
  await notice.waitFor();
  await page.evaluate(() => setTimeout(() => { throw new WebAssembly.RuntimeError('unreachable'); }));
  await page.waitForTimeout(100);
  assert.equal(await notice.count(), 1);
  assert.match(await notice.textContent(), /internal error \(a bug\).*reload the page/);
  assert.deepEqual(problems, ['page error: not ours', 'page error: unreachable', 'page error: unreachable']);
  await context.close();
});
