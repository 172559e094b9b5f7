// Prints, as a JSON array, the text of every label, message and
// participant of each Mermaid file, as Mermaid's own parser reads it and
// with its entity codes (#59;, #quot;) decoded: what the drawing shows.
// Usage: MERMAID_MODULES=DIR node mermaid-labels.mjs FILE...
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
const { default: mermaid } = await import(pathToFileURL(require.resolve('mermaid')).href);
mermaid.initialize({ startOnLoad: false });
// Mermaid hides entity codes from its parsers as ﬂ°°59¶ß (numeric) and
// ﬂ°quot¶ß (named) and writes them back as HTML entities when drawing.
const named = { quot: '"', lt: '<', gt: '>', amp: '&' };
const decode = (s) => String(s ?? '')
  .replace(/ﬂ°°(\d+)¶ß/g, (_, n) => String.fromCodePoint(Number(n)))
  .replace(/ﬂ°(\w+)¶ß/g, (m, n) => named[n] ?? m);
const texts = [];
for (const file of process.argv.slice(2)) {
  const d = await mermaid.mermaidAPI.getDiagramFromText(readFileSync(file, 'utf8'));
  const db = d.db;
  if (db.getMessages) {
    for (const a of db.getActors().values()) texts.push(decode(a.description));
    for (const m of db.getMessages()) texts.push(decode(m.message));
  } else {
    for (const v of db.getVertices().values()) texts.push(decode(v.text));
    for (const e of db.getEdges()) texts.push(decode(e.text));
  }
}
console.log(JSON.stringify(texts));
