// Shrinks the release site's JavaScript after Trunk has built it, leaving its behaviour alone:
//
// 1. wasm-bindgen names every import `__wbg_<name>_<16 hex digits>` and every closure shim
//    export `wasm_bindgen_<hash>___convert__closures…`. The names appear in both the wasm and
//    its JS glue, and hex digits barely compress: each of these imports and shims gets a short
//    name (`w<n>` and `s<n>`, numbered in base 36) in both files alike; what an import does
//    stays readable in the glue's code. (Shortening the module name `./<crate>_bg.js` too was
//    measured: it gzips 0.2 KB larger.)
// 2. Trunk's own JS minifier cannot parse wasm-bindgen's glue (see Trunk.toml), so the glue and
//    the service worker are minified here with terser.
// 3. The integrity hashes Trunk wrote into index.html are recomputed for the files changed.
//
// Run before scripts/csp.mjs (which hashes the inline loader script, untouched here):
// `node scripts/shrink.mjs dist`.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { minify } from 'terser';

const dist = process.argv[2] ?? 'dist';
const htmlFile = join(dist, 'index.html');
let html = await readFile(htmlFile, 'utf8');
const jsName = html.match(/\/(ipam-web-[0-9a-f]+\.js)/)?.[1];
const wasmName = html.match(/\/(ipam-web-[0-9a-f]+_bg\.wasm)/)?.[1];
if (!jsName || !wasmName) throw new Error(`shrink: found no script or wasm in ${htmlFile}`);

const wasm = await readFile(join(dist, wasmName));
let js = await readFile(join(dist, jsName), 'utf8');
const before = { wasm: wasm.length, js: js.length };

// --- The wasm's import and export names -----------------------------------------------------

function readU32(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function u32(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return Buffer.from(out);
}

function readName(bytes, at) {
  const [length, start] = readU32(bytes, at);
  return [bytes.subarray(start, start + length).toString('utf8'), start + length];
}

const name = (text) => {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([u32(bytes.length), bytes]);
};

// Old name -> new name, for both files.
const renames = new Map();
const taken = new Set();
function rename(old, wanted) {
  let fresh = wanted;
  for (let n = 1; taken.has(fresh); n++) fresh = `${wanted}${n}`;
  taken.add(fresh);
  renames.set(old, fresh);
  return fresh;
}

// An import section entry: module, name, then its description (kind, then a type index or
// the type of a table, memory or global).
function rewriteImports(body) {
  let [count, at] = readU32(body, 0);
  const entries = [];
  for (let i = 0; i < count; i++) {
    let module;
    let field;
    [module, at] = readName(body, at);
    [field, at] = readName(body, at);
    const descStart = at;
    const kind = body[at++];
    if (kind === 0) [, at] = readU32(body, at);
    else if (kind === 1) at = skipLimits(body, at + 1);
    else if (kind === 2) at = skipLimits(body, at);
    else if (kind === 3) at += 2;
    else throw new Error(`shrink: unknown import kind ${kind}`);
    entries.push({ module, field, desc: body.subarray(descStart, at) });
  }
  // The names kept are claimed first, so a new name never takes one of them.
  const hashed = /^__wbg_.+_[0-9a-f]{16}$/;
  for (const { field } of entries) if (!hashed.test(field)) taken.add(field);
  const out = [u32(count)];
  entries.forEach(({ module, field, desc }, i) => {
    const fresh = hashed.test(field) ? rename(field, `w${i.toString(36)}`) : field;
    out.push(name(module), name(fresh), desc);
  });
  return Buffer.concat(out);
}

function skipLimits(body, at) {
  const flags = body[at++];
  [, at] = readU32(body, at);
  if (flags & 1) [, at] = readU32(body, at);
  return at;
}

// An export section entry: name, kind, index.
function rewriteExports(body) {
  let [count, at] = readU32(body, 0);
  const out = [u32(count)];
  let shim = 0;
  for (let i = 0; i < count; i++) {
    let field;
    [field, at] = readName(body, at);
    const descStart = at;
    at += 1;
    [, at] = readU32(body, at);
    if (/^wasm_bindgen_[0-9a-f]+___convert__closures/.test(field)) {
      field = rename(field, `s${(shim++).toString(36)}`);
    }
    out.push(name(field), body.subarray(descStart, at));
  }
  return Buffer.concat(out);
}

const sections = [wasm.subarray(0, 8)];
for (let at = 8; at < wasm.length; ) {
  const id = wasm[at];
  const [size, start] = readU32(wasm, at + 1);
  let body = wasm.subarray(start, start + size);
  if (id === 2) body = rewriteImports(body);
  else if (id === 7) body = rewriteExports(body);
  sections.push(Buffer.from([id]), u32(body.length), body);
  at = start + size;
}
const newWasm = Buffer.concat(sections);

// The glue names each import as a key of its imports object and each export as `wasm.<name>`.
// Names are replaced as whole identifiers: one shim's name can begin another's.
const used = new Set();
js = js.replace(/[A-Za-z_$][\w$]*/g, (id) => {
  const fresh = renames.get(id);
  if (fresh === undefined) return id;
  used.add(id);
  return fresh;
});
for (const old of renames.keys()) {
  if (!used.has(old)) throw new Error(`shrink: ${old} is not in ${jsName}`);
}

// --- Minified JS ------------------------------------------------------------------------------

const terse = async (code, module) => {
  const result = await minify(code, { module, compress: { passes: 2 }, mangle: true });
  return result.code;
};
js = await terse(js, true);
const swFile = join(dist, 'sw.js');
const sw = await readFile(swFile, 'utf8');
const newSw = await terse(sw, false);

await writeFile(join(dist, wasmName), newWasm);
await writeFile(join(dist, jsName), js);
await writeFile(swFile, newSw);

// --- Integrity ------------------------------------------------------------------------------

const sri = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
for (const [file, bytes] of [
  [jsName, Buffer.from(js, 'utf8')],
  [wasmName, newWasm],
]) {
  const pattern = new RegExp(`(href=["']?/${file.replace('.', '\\.')}["']?[^>]*?integrity=["']?)sha384-[A-Za-z0-9+/=]+`);
  const swapped = new RegExp(`(integrity=["']?)sha384-[A-Za-z0-9+/=]+(["']?[^>]*?href=["']?/${file.replace('.', '\\.')})`);
  if (pattern.test(html)) html = html.replace(pattern, `$1${sri(bytes)}`);
  else if (swapped.test(html)) html = html.replace(swapped, `$1${sri(bytes)}$2`);
  else throw new Error(`shrink: found no integrity for ${file} in ${htmlFile}`);
}
await writeFile(htmlFile, html);

console.log(
  `shrink: ${renames.size} names shortened; wasm ${before.wasm} -> ${newWasm.length} bytes, ` +
    `${jsName} ${before.js} -> ${js.length}, sw.js ${sw.length} -> ${newSw.length}`,
);
