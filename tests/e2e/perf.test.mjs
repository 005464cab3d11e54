// Performance of the planner in the page (wasm, headless Chromium): a re-plan of a 1 k-line
// input must fit one 16 ms frame, and a 10 k-pod plan is timed for the wasm-vs-native ratio.
// The inputs are the ones bench/src/workload.rs generates (ported below), timed from the page
// with performance.now() around `window.ipamPlanner.simulate(text)` (the state's Replan does
// the same core work: parse, validate, simulate). The assertions are loose enough for a loaded
// 2-core machine yet catch a 10× regression; the precise figures go to BENCHMARKS.md through
// `make bench`, which sets PERF_RESULTS to a file this test writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';

import { useBrowser } from './helpers.mjs';

const env = useBrowser();
const results = {};

/** bench/src/workload.rs `manifest_lines`: pools with node selectors and pods with static IPs. */
export function manifestLines(lines) {
  let out = '';
  for (let i = 0; i * 22 < lines; i++) {
    const a = Math.floor(i / 256) % 256;
    const b = i % 256;
    out +=
      `---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pool-${i}\nspec:\n  cidr: 10.${a}.${b}.0/24\n  blockSize: 28\n  nodeSelector: rack == "r${i % 7}" && !has(edge)\n` +
      `---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-${i}\n  namespace: ns-${i % 13}\n  annotations:\n    cni.projectcalico.org/ipAddrs: '["10.${a}.${b}.5"]'\nspec:\n  nodeName: node-${i % 50}\n  containers:\n    - name: c\n      image: busybox\n`;
  }
  return out;
}

/** bench/src/workload.rs `ClusterShape::manifest`: a /8 pool, /26 blocks, Deployments pinned to nodes. */
export function clusterManifest(nodes, pods) {
  const parts = ['apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: bench\nspec:\n  cidr: 10.0.0.0/8\n  blockSize: 26\n'];
  for (let n = 0; n < nodes; n++) parts.push(`---\napiVersion: v1\nkind: Node\nmetadata:\n  name: node-${n}\n`);
  for (let n = 0; n < nodes; n++) {
    const replicas = Math.floor(pods / nodes) + (n < pods % nodes ? 1 : 0);
    parts.push(
      `---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-${n}\n  namespace: default\nspec:\n  replicas: ${replicas}\n  template:\n    spec:\n      nodeName: node-${n}\n      containers:\n        - name: app\n          image: app\n`,
    );
  }
  return parts.join('');
}

/**
 * Times `window.ipamPlanner[call](text)` in the page `runs` times after `warmup` calls; returns
 * ms figures and the report's pod count (simulate) or diagnostic count (check).
 */
async function timeInPage(page, text, runs, warmup, call = 'simulate') {
  return page.evaluate(
    ({ text, runs, warmup, call }) => {
      for (let i = 0; i < warmup; i++) window.ipamPlanner[call](text);
      const times = [];
      let count = 0;
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        const report = window.ipamPlanner[call](text);
        times.push(performance.now() - start);
        count = (report.pods ?? report.diagnostics).length;
      }
      times.sort((a, b) => a - b);
      return { best: times[0], median: times[Math.floor(times.length / 2)], pods: count };
    },
    { text, runs, warmup, call },
  );
}

test('a re-plan of a 1 k-line input fits one 16 ms frame', async () => {
  const { context, page, problems } = await env.openPage();
  const lines = 1000;
  const text = manifestLines(lines);
  const t = await timeInPage(page, text, 25, 5);
  console.log(`re-plan ${text.split('\n').length - 1} lines in wasm: best ${t.best.toFixed(2)} ms, median ${t.median.toFixed(2)} ms`);
  results.replan_lines = lines;
  results.replan_ms = t.best;
  results.replan_median_ms = t.median;
  assert.equal(t.pods, 46);
  // The target is 16 ms (measured ≈ 2.5 ms): a loaded 2-core machine gets headroom, a 10×
  // regression does not.
  assert.ok(t.best < 25, `re-plan took ${t.best.toFixed(1)} ms (best of 25)`);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a 10 k-pod plan in the page', async () => {
  const { context, page, problems } = await env.openPage();
  const [nodes, pods] = [100, 10_000];
  const text = clusterManifest(nodes, pods);
  // Fifteen calls after three warm-ups, as the native side is timed: V8 compiles the wasm in
  // tiers, and the first few calls can run before the hot code is fully optimised.
  const t = await timeInPage(page, text, 15, 3);
  console.log(`simulate ${pods} pods on ${nodes} nodes in wasm: best ${t.best.toFixed(1)} ms, median ${t.median.toFixed(1)} ms`);
  results.simulate_nodes = nodes;
  results.simulate_pods = pods;
  results.simulate_ms = t.best;
  results.simulate_median_ms = t.median;
  assert.equal(t.pods, pods);
  // Measured ≈ 65 ms (up to 121 ms under load): 550 ms leaves headroom yet fails at 10×.
  assert.ok(t.best < 550, `10 k pods took ${t.best.toFixed(0)} ms (best of 15)`);
  // check(text): the same plan, returning only the diagnostics (no per-pod conversion to JS).
  const c = await timeInPage(page, text, 15, 3, 'check');
  console.log(`check ${pods} pods on ${nodes} nodes in wasm: best ${c.best.toFixed(1)} ms, median ${c.median.toFixed(1)} ms`);
  results.check_ms = c.best;
  assert.equal(c.pods, 0);
  // Measured ≈ 40 ms (up to 84 ms under load).
  assert.ok(c.best < 350, `check of 10 k pods took ${c.best.toFixed(0)} ms (best of 15)`);
  assert.deepEqual(problems, []);
  await context.close();
});

// The benchmark's own plans (100 k pods on 1 k nodes, 1 M pods on 5 k nodes) timed in the page,
// for BENCHMARKS.md only: `check`, since `simulate` of a million pods would mostly time the
// conversion of a million JS objects. Skipped in `make test` (they take seconds, not
// milliseconds); `make bench` sets PERF_RESULTS and runs them.
test('the benchmark plans in the page', { skip: !process.env.PERF_RESULTS }, async () => {
  const { context, page, problems } = await env.openPage();
  for (const [nodes, pods] of [
    [1_000, 100_000],
    [5_000, 1_000_000],
  ]) {
    const text = clusterManifest(nodes, pods);
    const t = await timeInPage(page, text, 3, 1, 'check');
    console.log(`check ${pods} pods on ${nodes} nodes in wasm: best ${t.best.toFixed(0)} ms`);
    results[`check_${pods}_ms`] = t.best;
    assert.equal(t.pods, 0);
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test('write the figures for BENCHMARKS.md', async () => {
  if (!process.env.PERF_RESULTS) return;
  await writeFile(process.env.PERF_RESULTS, `${JSON.stringify(results, null, 2)}\n`);
});
