// The Generate panel: every generator's output, added to the input, is checked again by the
// page and must add no error or warning; Copy, Download .yaml and the capacity planner's numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { useBrowser, shots, INPUT } from './helpers.mjs';

const env = useBrowser();

const PROBLEMS = '[data-testid="diagnostic"][data-severity="error"], [data-testid="diagnostic"][data-severity="warning"]';

// One automatic pool with IPIP (so each node takes a tunnel address), two nodes, a Pod, a
// one-replica StatefulSet and a Deployment: a clean input the generators must keep clean.
const CLUSTER = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pods
spec:
  cidr: 10.1.0.0/16
  ipipMode: Always
---
apiVersion: v1
kind: Node
metadata:
  name: node-1
---
apiVersion: v1
kind: Node
metadata:
  name: node-2
---
apiVersion: v1
kind: Pod
metadata:
  name: db
  namespace: data
spec:
  nodeName: node-2
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: cache, namespace: data}
spec:
  replicas: 1
  template:
    spec: {nodeName: node-1}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 4
  template:
    metadata:
      labels: {app: web}
`;

/** Opens the page with `text` as input and the Generate panel on `tab`. */
async function openWith(text, tab, options) {
  const opened = await env.openPage('/', options);
  const { page } = opened;
  if (text !== undefined) {
    await page.fill(INPUT, text);
    await page.waitForFunction(
      (t) => document.querySelector('[data-testid="manifest-input"]').value === t,
      text,
    );
  }
  await page.locator(`[data-testid="generator-tab"][data-tab="${tab}"]`).click();
  return opened;
}

/** Adds the generated output to the input and waits for the new results. */
async function addToInput(page) {
  const before = await page.inputValue(INPUT);
  await page.click('[data-testid="add-generated"]');
  await page.waitForFunction((b) => document.querySelector('[data-testid="manifest-input"]').value !== b, before);
  // Adding plans at once; the summary reflects the new text.
  await page.locator('[data-testid="summary"]').waitFor();
  return page.inputValue(INPUT);
}

async function allocation(page, pod) {
  const row = page.locator(`[data-testid="allocation"][data-pod="${pod}"]`);
  await row.waitFor();
  return { ips: await row.getAttribute('data-ips'), source: await row.getAttribute('data-source') };
}

test('a static IP for a pod of the input comes with its reservation and checks clean', async () => {
  const { context, page, problems } = await openWith(CLUSTER, 'static-ip');
  assert.equal(await page.locator(PROBLEMS).count(), 0);
  await page.selectOption('[data-testid="static-ip-target"]', 'data/db');
  await page.selectOption('[data-testid="static-ip-pool"]', 'pods');
  // Keyboard: the Generate button answers Enter.
  await page.focus('[data-testid="generate-static-ip"]');
  await page.keyboard.press('Enter');
  const out = page.locator('[data-testid="generated"]');
  await out.waitFor();
  assert.equal(await out.getAttribute('data-clean'), 'true');
  const yaml = await page.inputValue('[data-testid="generated-yaml"]');
  const ip = yaml.match(/ipAddrs: '\["([0-9.]+)"\]'/)?.[1];
  assert.ok(ip, yaml);
  assert.match(yaml, new RegExp(`kind: IPReservation[\\s\\S]*- ${ip.replaceAll('.', '\\.')}/32`));
  await page.locator('[data-testid="generators"]').screenshot({ path: join(shots, 'generate-static-ip.png') });

  const after = await addToInput(page);
  // The annotation goes into the Pod's own metadata, as a new first entry.
  assert.match(after, new RegExp(`kind: Pod\\nmetadata:\\n  annotations:\\n    cni\\.projectcalico\\.org/ipAddrs: '\\["${ip.replaceAll('.', '\\.')}"\\]'\\n  name: db\\n`));
  assert.match(after, /\n---\n# Add to metadata\.annotations of data\/db/);
  assert.equal(await page.locator(PROBLEMS).count(), 0);
  assert.deepEqual(await allocation(page, 'data/db'), { ips: ip, source: 'static' });
  // The output was for the old text: adding it again is not offered.
  assert.equal(await page.locator('[data-testid="add-generated"]').isDisabled(), true);
  await page.click('[data-testid="undo"]');
  assert.equal(await page.inputValue(INPUT), CLUSTER);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a one-replica StatefulSet gets the annotation on its template', async () => {
  const { context, page, problems } = await openWith(CLUSTER, 'static-ip');
  await page.selectOption('[data-testid="static-ip-target"]', 'data/cache');
  await page.click('[data-testid="generate-static-ip"]');
  const ip = (await page.inputValue('[data-testid="generated-yaml"]')).match(/- ([0-9.]+)\/32/)?.[1];
  assert.ok(ip);
  await addToInput(page);
  assert.equal(await page.locator(PROBLEMS).count(), 0);
  assert.deepEqual(await allocation(page, 'data/cache-0'), { ips: ip, source: 'static' });
  // A Deployment of four replicas is not offered: one address belongs to one pod.
  const offered = await page.locator('[data-testid="static-ip-target"] option').evaluateAll((os) => os.map((o) => o.value));
  assert.ok(!offered.includes('default/web'), offered.join());
  assert.deepEqual(problems, []);
  await context.close();
});

test('a new pod in the example cluster takes a Manual pool address without a reservation', async () => {
  const { context, page, problems } = await openWith(undefined, 'static-ip');
  await page.selectOption('[data-testid="static-ip-target"]', 'new');
  await page.fill('[data-testid="static-ip-name"]', 'ledger');
  await page.selectOption('[data-testid="static-ip-node"]', 'node-2');
  await page.selectOption('[data-testid="static-ip-pool"]', 'static-ips');
  await page.click('[data-testid="generate-static-ip"]');
  const yaml = await page.inputValue('[data-testid="generated-yaml"]');
  assert.match(yaml, /kind: Pod[\s\S]*name: ledger[\s\S]*ipAddrs: '\["10\.245\.0\.16"\]'[\s\S]*nodeName: node-2/);
  assert.doesNotMatch(yaml, /IPReservation/);
  await addToInput(page);
  assert.equal(await page.locator(PROBLEMS).count(), 0);
  assert.deepEqual(await allocation(page, 'default/ledger'), { ips: '10.245.0.16', source: 'static' });
  assert.deepEqual(problems, []);
  await context.close();
});

test('a static IP from a new Manual pool', async () => {
  const { context, page, problems } = await openWith(CLUSTER, 'static-ip');
  await page.selectOption('[data-testid="static-ip-target"]', 'data/db');
  await page.selectOption('[data-testid="static-ip-pool"]', 'new');
  await page.fill('[data-testid="static-ip-pool-cidr"]', '10.1.0.0/28');
  await page.click('[data-testid="generate-static-ip"]');
  // Overlapping the automatic pool is refused with the reason.
  assert.match(await page.locator('[data-testid="generate-error"]').textContent(), /overlaps pool pods/);
  await page.fill('[data-testid="static-ip-pool-cidr"]', '10.9.0.0/28');
  await page.click('[data-testid="generate-static-ip"]');
  const yaml = await page.inputValue('[data-testid="generated-yaml"]');
  assert.match(yaml, /assignmentMode: Manual/);
  assert.match(yaml, /blockSize: 28/);
  await addToInput(page);
  assert.equal(await page.locator(PROBLEMS).count(), 0);
  assert.deepEqual(await allocation(page, 'data/db'), { ips: '10.9.0.0', source: 'static' });
  assert.deepEqual(problems, []);
  await context.close();
});

test('reserving a range: an IPReservation inside a pool, a Manual pool outside, errors explained', async () => {
  const { context, page, problems } = await openWith(CLUSTER, 'reserve');
  await page.fill('[data-testid="reserve-cidr"]', '10.1.0.1/24');
  await page.click('[data-testid="generate-reserve"]');
  assert.match(await page.locator('[data-testid="generate-error"]').textContent(), /host bits set; did you mean 10\.1\.0\.0\/24\?/);
  await page.fill('[data-testid="reserve-cidr"]', '10.1.0.0/24');
  await page.click('[data-testid="generate-reserve"]');
  assert.match(await page.inputValue('[data-testid="generated-yaml"]'), /kind: IPReservation\nmetadata:\n  name: reserved-10-1-0-0-24\nspec:\n  reservedCIDRs:\n    - 10\.1\.0\.0\/24\n/);
  await page.locator('[data-testid="generators"]').screenshot({ path: join(shots, 'generate-reserve.png') });
  await addToInput(page);
  assert.equal(await page.locator(PROBLEMS).count(), 0);
  assert.equal(await page.locator('[data-testid="pool-usage"][data-pool="pods"]').getAttribute('data-reserved'), '256');

  await page.check('[data-testid="reserve-as-pool"]');
  await page.fill('[data-testid="reserve-cidr"]', '10.7.0.0/24');
  await page.click('[data-testid="generate-reserve"]');
  const yaml = await page.inputValue('[data-testid="generated-yaml"]');
  assert.match(yaml, /kind: IPPool[\s\S]*cidr: 10\.7\.0\.0\/24[\s\S]*nodeSelector: '!all\(\)'\n  assignmentMode: Manual\n  allowedUses:\n    - Workload\n/);
  await addToInput(page);
  assert.equal(await page.locator(PROBLEMS).count(), 0);
  // Automatic assignment never claims a block of it.
  assert.equal(await page.locator('[data-testid="pool-usage"][data-pool="manual-10-7-0-0-24"]').getAttribute('data-in-use'), '0');
  assert.deepEqual(problems, []);
  await context.close();
});

test('Download .yaml saves the generated text as a .yaml file', async () => {
  const { context, page, problems } = await openWith(CLUSTER, 'reserve');
  await page.fill('[data-testid="reserve-cidr"]', '10.1.200.0/28');
  await page.click('[data-testid="generate-reserve"]');
  const yaml = await page.inputValue('[data-testid="generated-yaml"]');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download-generated"]')]);
  assert.equal(download.suggestedFilename(), 'ip-reservation.yaml');
  assert.equal(await readFile(await download.path(), 'utf8'), yaml);
  assert.equal(await page.locator('[data-testid="generated-status"]').textContent(), 'Download started.');
  // No CSP violation or request off the origin.
  assert.deepEqual(problems, []);
  await context.close();
});

test('Copy writes the clipboard, and without a clipboard selects the text instead', async () => {
  const context = await env.browser.newContext();
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  let opened = await openWith(CLUSTER, 'reserve', { context });
  await opened.page.fill('[data-testid="reserve-cidr"]', '10.1.200.0/28');
  await opened.page.click('[data-testid="generate-reserve"]');
  const yaml = await opened.page.inputValue('[data-testid="generated-yaml"]');
  await opened.page.click('[data-testid="copy-generated"]');
  await opened.page.waitForFunction(() => document.querySelector('[data-testid="generated-status"]').textContent !== '');
  assert.equal(await opened.page.locator('[data-testid="generated-status"]').textContent(), 'Copied to the clipboard.');
  assert.equal(await opened.page.evaluate(() => navigator.clipboard.readText()), yaml);
  assert.deepEqual(opened.problems, []);
  await context.close();

  // A page where the asynchronous clipboard API is missing (as on an insecure origin).
  const bare = await env.browser.newContext();
  await bare.addInitScript(() => Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined }));
  opened = await openWith(CLUSTER, 'reserve', { context: bare });
  const { page } = opened;
  await page.fill('[data-testid="reserve-cidr"]', '10.1.200.0/28');
  await page.click('[data-testid="generate-reserve"]');
  await page.click('[data-testid="copy-generated"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="generated-status"]').textContent !== '');
  const status = await page.locator('[data-testid="generated-status"]').textContent();
  assert.match(status, /^(Copied to the clipboard\.|The browser does not allow copying here: the text is selected, press Ctrl\+C \(⌘C\)\.)$/);
  // Either way the whole manifest is selected, ready for Ctrl+C.
  const selection = await page.$eval('[data-testid="generated-yaml"]', (a) => [a.selectionStart, a.selectionEnd, a.value.length, document.activeElement === a]);
  assert.deepEqual(selection, [0, yaml.length, yaml.length, true]);
  assert.deepEqual(opened.problems, []);
  await bare.close();
});

test('the capacity planner: a /21 pool of /26 blocks has 32 blocks, and of 40 nodes 33–40 borrow', async () => {
  const { context, page, problems } = await openWith(undefined, 'capacity');
  await page.selectOption('[data-testid="capacity-pool"]', 'custom');
  await page.fill('[data-testid="capacity-prefix"]', '21');
  await page.selectOption('[data-testid="capacity-block"]', '26');
  await page.fill('[data-testid="capacity-nodes"]', '40');
  await page.fill('[data-testid="capacity-pods"]', '30');
  const value = (id, attr = 'data-value') => page.locator(`[data-testid="${id}"]`).getAttribute(attr);
  assert.equal(await value('capacity-pool-blocks'), '32');
  assert.equal(await value('capacity-nodes-fit'), '32');
  assert.equal(await value('capacity-blocks-per-node'), '1');
  assert.equal(await value('capacity-borrowing', 'data-first'), '33');
  assert.equal(await value('capacity-borrowing', 'data-count'), '8');
  assert.match(await page.locator('[data-testid="capacity-borrowing"] dd').textContent(), /nodes 33–40 \(8\) find no unclaimed block/);
  assert.equal(await value('capacity-failure', 'data-node'), '');
  // 40 blocks need a /20; with the default 25% headroom, 50 nodes need 50 blocks: still a /20.
  assert.equal(await value('capacity-advice'), '20');
  await page.locator('[data-testid="generators"]').screenshot({ path: join(shots, 'generate-capacity.png') });

  // With strict affinity node 33 fails instead of borrowing (toggled by keyboard).
  await page.focus('[data-testid="capacity-strict"]');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('[data-testid="capacity-strict"]'), true);
  assert.equal(await value('capacity-failure', 'data-node'), '33');
  assert.equal(await value('capacity-failure', 'data-code'), 'pool-exhausted');
  // 2000 pods per node: the /21 pool runs out first (its 2049th address)...
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('[data-testid="capacity-strict"]'), false);
  await page.fill('[data-testid="capacity-pods"]', '2000');
  await page.locator('[data-testid="capacity-over-limit"]').waitFor();
  assert.equal(await value('capacity-failure', 'data-code'), 'pool-exhausted');
  assert.equal(await value('capacity-failure', 'data-node'), '9');
  // ...and in a /8 node 1 needs a 21st /26 block, over the cap of 20.
  await page.fill('[data-testid="capacity-prefix"]', '8');
  assert.equal(await value('capacity-failure', 'data-code'), 'block-limit');
  assert.equal(await value('capacity-failure', 'data-node'), '1');
  // Advice picks /25 blocks, which fit the cap.
  await page.selectOption('[data-testid="capacity-block"]', '');
  assert.equal(await value('capacity-block-size'), '25');
  assert.equal(await page.locator('[data-testid="capacity-over-limit"]').count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the capacity planner reads a pool of the input, with the blocks the plan claimed', async () => {
  const { context, page, problems } = await openWith(undefined, 'capacity');
  // The example's first pool: 10.244.0.0/16 with /26 blocks, two blocks claimed by the plan.
  assert.equal(await page.inputValue('[data-testid="capacity-pool"]'), 'default-ipv4-ippool');
  assert.equal(await page.locator('[data-testid="capacity-pool-blocks"]').getAttribute('data-value'), '1024');
  assert.match(await page.locator('[data-testid="capacity-claimed"]').textContent(), /2 claimed in the current plan, 1\u2009022 unclaimed/);
  assert.equal(await page.locator('[data-testid="capacity-nodes"]').inputValue(), '2');
  assert.equal(await page.locator('[data-testid="capacity-block-size"]').getAttribute('data-value'), '26');
  assert.deepEqual(problems, []);
  await context.close();
});

test('the Generate panel in the dark colour scheme', async () => {
  const { context, page, problems } = await openWith(undefined, 'static-ip', { colorScheme: 'dark' });
  await page.click('[data-testid="generate-static-ip"]');
  await page.locator('[data-testid="generated"]').waitFor();
  await page.locator('[data-testid="generators"]').screenshot({ path: join(shots, 'generate-dark.png') });
  assert.deepEqual(problems, []);
  await context.close();
});
