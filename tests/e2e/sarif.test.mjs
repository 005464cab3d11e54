// `ipam-planner check --format sarif` must be valid SARIF 2.1.0: validated against the official
// schema (shipped in @microsoft/jest-sarif) with ajv, for a clean input and for inputs with
// errors, warnings, infos and fixes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const schema = JSON.parse(
  readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'),
);
// The schema is draft-04; ajv 6 needs that meta-schema added explicitly.
const ajv = new Ajv({ schemaId: 'auto', allErrors: true });
ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-04.json'));
const validate = ajv.compile(schema);
// Where `make test-e2e` built it: cargo's target directory, which CARGO_TARGET_DIR may move.
const planner = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'release', 'ipam-planner');

function sarif(...paths) {
  try {
    return execFileSync(planner, ['check', '--format', 'sarif', ...paths], { cwd: root, encoding: 'utf8' });
  } catch (e) {
    assert.equal(e.status, 1, `exit status ${e.status}: ${e.stderr}`);
    return e.stdout;
  }
}

for (const [name, paths] of [
  ['a clean input', ['static/examples/healthy-cluster.yaml']],
  ['errors, warnings and fixes', ['tests/fixtures/pains', 'static/examples']],
  ['a YAML syntax error', ['tests/fixtures/syntax']],
]) {
  test(`SARIF for ${name} is valid against the 2.1.0 schema`, () => {
    const log = JSON.parse(sarif(...paths));
    const ok = validate(log);
    assert.ok(ok, JSON.stringify(validate.errors, null, 2));
    assert.equal(log.version, '2.1.0');
    const results = log.runs[0].results;
    if (name !== 'a clean input') {
      assert.ok(results.length > 0);
      for (const r of results) {
        const rule = log.runs[0].tool.driver.rules[r.ruleIndex];
        assert.equal(rule.id, r.ruleId);
        // A result may have no location (SARIF allows it); where it has one, it has a line.
        for (const l of r.locations ?? []) assert.ok(l.physicalLocation.region.startLine >= 1);
      }
    }
  });
}
