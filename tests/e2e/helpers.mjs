// Shared set-up for the end-to-end tests: one static server for dist/ and one headless
// Chromium per test file, and pages that record every console error, page error and request
// that leaves the origin (the page must make none: its CSP forbids it).
import { before, after } from 'node:test';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { serve } from './serve.mjs';
import { launch } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
export const dist = process.env.DIST_DIR ?? join(root, 'dist');
export const shots = join(here, 'screenshots');

export const INPUT = '[data-testid="manifest-input"]';

/** Registers the server (for `site`) and browser for the calling test file; returns live handles. */
export function useBrowser(site = dist) {
  const env = { origin: '', browser: null, server: null };
  before(async () => {
    env.server = await serve(site);
    env.origin = `http://127.0.0.1:${env.server.address().port}`;
    env.browser = await launch();
    await mkdir(shots, { recursive: true });
  });
  after(async () => {
    await env.browser?.close();
    env.server?.close();
  });
  /**
   * A page in a fresh browser context (fresh storage) at `path`, waiting for the editor.
   * `problems` collects console errors, page errors and requests off the origin.
   */
  env.openPage = async (path = '/', { context, colorScheme } = {}) => {
    context ??= await env.browser.newContext(colorScheme ? { colorScheme } : {});
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(env.origin) && !url.startsWith('data:')) problems.push(`request off origin: ${url}`);
    });
    await page.goto(`${env.origin}${path}`);
    await page.locator(INPUT).waitFor();
    return { context, page, problems };
  };
  return env;
}

/** The gallery's examples as shipped: id → text. */
export async function examples() {
  const dir = join(root, 'static', 'examples');
  const out = {};
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort()) {
    out[file.replace(/\.yaml$/, '')] = await readFile(join(dir, file), 'utf8');
  }
  return out;
}

/** The 1-based line of `text` on which `needle` first occurs. */
export function lineOf(text, needle) {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`${needle} not in text`);
  return text.slice(0, i).split('\n').length;
}
