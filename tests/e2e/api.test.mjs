// The JS API for embedding: window.ipamPlanner.check(text) and simulate(text) return plain
// objects with exactly the CLI's JSON shapes (shared/contract.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { useBrowser } from './helpers.mjs';

const env = useBrowser();

const DIAGNOSTIC_KEYS = ['calico_message', 'code', 'column', 'file', 'fix', 'line', 'message', 'resource', 'severity'];

test('check(text) returns {diagnostics, summary}', async () => {
  const { context, page, problems } = await env.openPage();
  const report = await page.evaluate(() => window.ipamPlanner.check('kind: Foo\nmetadata: {name: x}\n'));
  assert.deepEqual(Object.keys(report).sort(), ['diagnostics', 'summary']);
  assert.deepEqual(report.summary, { errors: 0, warnings: 0, infos: 1 });
  const [d] = report.diagnostics;
  assert.deepEqual(Object.keys(d).sort(), DIAGNOSTIC_KEYS);
  assert.equal(d.code, 'unsupported-kind');
  assert.equal(d.severity, 'info');
  assert.equal(d.line, 1);
  assert.equal(d.calico_message, null);
  assert.equal(d.fix, null);
  assert.deepEqual(d.resource, { kind: 'Foo', name: 'x', namespace: null });
  // A plain object: JSON round-trips it unchanged (no Maps, no class instances).
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  assert.deepEqual(problems, []);
  await context.close();
});

test('simulate(text) returns {pods, tunnels, blocks, pools, diagnostics}', async () => {
  const { context, page, problems } = await env.openPage();
  const report = await page.evaluate(() =>
    window.ipamPlanner.simulate('apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/24}\n---\n: [\n'),
  );
  assert.deepEqual(Object.keys(report).sort(), ['blocks', 'diagnostics', 'pods', 'pools', 'tunnels']);
  for (const key of ['blocks', 'diagnostics', 'pods', 'pools', 'tunnels']) assert.ok(Array.isArray(report[key]), key);
  const syntax = report.diagnostics.find((d) => d.code === 'yaml-syntax');
  assert.ok(syntax, JSON.stringify(report.diagnostics));
  assert.deepEqual(Object.keys(syntax).sort(), DIAGNOSTIC_KEYS);
  assert.equal(syntax.severity, 'error');
  // Shapes of whatever the simulator returns (it fills in as the core grows).
  for (const p of report.pods) assert.deepEqual(Object.keys(p).sort(), ['block', 'ips', 'name', 'namespace', 'node', 'pool', 'source']);
  for (const t of report.tunnels) assert.deepEqual(Object.keys(t).sort(), ['ip', 'kind', 'node']);
  for (const b of report.blocks) assert.deepEqual(Object.keys(b).sort(), ['affinity', 'cidr', 'pool']);
  for (const p of report.pools) {
    assert.deepEqual(Object.keys(p).sort(), ['available', 'capacity', 'cidr', 'in_use', 'name', 'reserved']);
    for (const k of ['available', 'capacity', 'in_use', 'reserved']) assert.match(p[k], /^\d+$/);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  assert.deepEqual(problems, []);
  await context.close();
});
