// Parses Mermaid files with Mermaid's own parser under node and jsdom.
// Usage: MERMAID_MODULES=DIR node mermaid-parse.mjs FILE...
// where DIR is a node_modules folder holding the mermaid and jsdom
// packages (npm install mermaid@11 jsdom). Prints "ok FILE" per file and
// exits 1 on the first file that does not parse.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.MERMAID_MODULES;
if (!dir) {
  console.error('MERMAID_MODULES is not set');
  process.exit(2);
}
const require = createRequire(join(dir, 'noop.js'));
const { JSDOM } = require('jsdom');
const dom = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const k of ['DOMParser', 'Element', 'HTMLElement', 'Node', 'navigator', 'getComputedStyle']) {
  if (!(k in globalThis)) {
    try { globalThis[k] = dom.window[k]; } catch { /* read-only in this node */ }
  }
}
const entry = require.resolve('mermaid');
const { default: mermaid } = await import(pathToFileURL(entry).href);
mermaid.initialize({ startOnLoad: false });
let failed = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  try {
    await mermaid.parse(text);
    console.log('ok ' + file);
  } catch (e) {
    console.error(file + ': ' + (e && e.message ? e.message : e));
    failed = 1;
  }
}
process.exit(failed);
