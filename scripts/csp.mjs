// Seals dist/index.html with a Content-Security-Policy that allows no request off the origin.
// Trunk writes its loader as an inline module script; rather than allowing every inline script,
// the policy names that script by its SHA-256 hash.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

const file = process.argv[2] ?? 'dist/index.html';
let html = await readFile(file, 'utf8');
html = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>\s*/g, '');

const hashes = [...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
  ([, body]) => `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`,
);
const policy = [
  "default-src 'self'",
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`.trim(),
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
// The policy goes first in the head, before any script. Trunk's minified HTML (release builds)
// omits the optional `<head>` tag, so the meta then follows the `<html>` tag.
const meta = `<meta http-equiv="Content-Security-Policy" content="${policy}" />`;
html = /<head>/.test(html)
  ? html.replace('<head>', `<head>\n    ${meta}`)
  : html.replace(/<html[^>]*>/, (tag) => `${tag}${meta}`);
if (!html.includes(meta)) throw new Error(`csp: found no <head> or <html> tag in ${file}`);
await writeFile(file, html);
console.log(`csp: sealed ${file} (${hashes.length} inline script${hashes.length === 1 ? '' : 's'} allowed by hash)`);
