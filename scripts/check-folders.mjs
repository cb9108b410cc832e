#!/usr/bin/env node
// Checks the architecture of src/: no import cycle between its folders (src/<folder>/…), and no
// program started through a shell string. Prints the folder graph's cycles and exits 1 when there
// are any. Run by `npm test` (test/unit/architecture.test.ts) and by hand: node scripts/check-folders.mjs
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? files(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** `src/<folder>` of a file; a file directly in src/ (entry points, version.ts) is a node of its own. */
function folderOf(file) {
  const parts = relative(root, file).split(sep);
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.(js|ts)$/, '.ts');
}

/** Folder → folders it imports from (static and dynamic imports, type imports included). */
export function folderGraph() {
  const graph = new Map();
  const edges = [];
  for (const file of files(root)) {
    const from = folderOf(file);
    if (!graph.has(from)) graph.set(from, new Set());
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(dirname(file), m[1]);
      if (!target.startsWith(root)) continue;
      const to = folderOf(target);
      if (to !== from) {
        graph.get(from).add(to);
        edges.push({ from, to, file: relative(root, file), spec: m[1] });
      }
    }
  }
  return { graph, edges };
}

/** Strongly connected components with more than one folder (Tarjan). */
export function folderCycles(graph) {
  let index = 0;
  const stack = [];
  const on = new Set();
  const idx = new Map();
  const low = new Map();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) {
        low.set(v, Math.min(low.get(v), idx.get(w)));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { graph, edges } = folderGraph();
  const cycles = folderCycles(graph);
  for (const scc of cycles) {
    process.stdout.write(`cycle between folders: {${scc.join(', ')}}\n`);
    for (const e of edges.filter((x) => scc.includes(x.from) && scc.includes(x.to))) {
      process.stdout.write(`  ${e.from} -> ${e.to}: src/${e.file} imports ${e.spec}\n`);
    }
  }
  if (cycles.length === 0) process.stdout.write(`no cycles between the ${graph.size} folders of src/\n`);
  process.exitCode = cycles.length === 0 ? 0 : 1;
}
