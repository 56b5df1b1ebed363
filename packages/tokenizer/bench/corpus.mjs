// Builds a text corpus from files already on the machine (licenses, package
// documentation and changelogs, READMEs and CHANGELOGs of installed npm
// packages): real prose, code, lists and non-ASCII names. Deterministic for a
// given machine: files are visited in sorted order and taken round-robin from
// the source groups until the size limit.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const workspaceRoot = path.resolve(here, '..', '..', '..');
const decoder = new TextDecoder('utf-8', { fatal: true });

function walk(dir, accept, out, depth = 0) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && depth < 12) walk(full, accept, out, depth + 1);
    else if (entry.isFile() && accept(full, entry.name)) out.push(full);
  }
  return out;
}

function readText(file) {
  try {
    const stat = fs.statSync(file);
    if (stat.size > 4 << 20 || stat.size < 64) return null;
    let bytes = fs.readFileSync(file);
    if (file.endsWith('.gz')) bytes = zlib.gunzipSync(bytes);
    const text = decoder.decode(bytes);
    if (text.includes('\u0000')) return null;
    return text;
  } catch {
    return null;
  }
}

const docText = /(\.(txt|md|rst|gz)|\/(README|NEWS|changelog|copyright|AUTHORS|THANKS)[^/]*)$/i;

export function corpusGroups() {
  const licenses = walk('/usr/share/common-licenses', () => true, []);
  const docs = walk('/usr/share/doc', (full) => docText.test(full) && !/\.(html?|png|gif|jpg|svg)(\.gz)?$/i.test(full), []);
  const npm = walk(path.join(workspaceRoot, 'node_modules', '.pnpm'), (full, name) => /^(README|CHANGELOG|HISTORY)(\.md|\.markdown|\.txt)?$/i.test(name), []);
  // Translated prose and non-Latin scripts: TypeScript's localized diagnostics (13 languages),
  // ISO code names, vim's digraph table.
  const multilingual = [
    ...walk(path.join(workspaceRoot, 'node_modules', '.pnpm'), (full, name) => name === 'diagnosticMessages.generated.json' && /typescript\/lib\/[a-z-]+\//.test(full), []),
    ...walk('/usr/share/iso-codes/json', (full) => full.endsWith('.json'), []),
    ...walk('/usr/share/vim', (full, name) => name === 'digraph.txt', []),
  ];
  return [licenses, docs, npm, multilingual];
}

/**
 * Documents (one per file, cut to `maxDocumentChars`) totalling at most `maxBytes` of UTF-8,
 * round-robin over the source groups.
 */
export function buildCorpus(maxBytes, { maxDocumentChars = Infinity } = {}) {
  const groups = corpusGroups();
  const cursors = groups.map(() => 0);
  const seen = new Set();
  const documents = [];
  let bytes = 0;
  let progress = true;
  while (bytes < maxBytes && progress) {
    progress = false;
    for (let g = 0; g < groups.length && bytes < maxBytes; g++) {
      while (cursors[g] < groups[g].length) {
        const file = groups[g][cursors[g]++];
        let text = readText(file);
        if (text === null || seen.has(text)) continue;
        if (text.length > maxDocumentChars) {
          let end = maxDocumentChars;
          // Never cut a surrogate pair in half.
          if (/[\ud800-\udbff]/.test(text[end - 1])) end--;
          text = text.slice(0, end);
        }
        seen.add(text);
        const size = Buffer.byteLength(text);
        if (bytes + size > maxBytes) continue;
        documents.push({ file, text });
        bytes += size;
        progress = true;
        break;
      }
    }
  }
  return { documents, bytes };
}

/**
 * Short inputs (sentences, chat turns): the corpus documents' lines of 20–200 characters, in
 * order, one in every `stride` so that every source group is represented, up to `count`.
 */
export function shortLines(texts, { count = 20_000, stride = 5 } = {}) {
  const lines = [];
  let seen = 0;
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (line.length < 20 || line.length > 200 || seen++ % stride !== 0) continue;
      lines.push(line);
      if (lines.length === count) return lines;
    }
  }
  return lines;
}
