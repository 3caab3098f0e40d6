#!/usr/bin/env node
/**
 * The layering rule of DESIGN.md, checked: imports between src/ files only run
 * downward, and no files import each other in a cycle. Reads the TypeScript
 * sources (type-only imports count too: a type pulled from a layer above ties
 * the layers as much as a value does). Exits 1 with every violation listed.
 *
 *   node scripts/lint/check-imports.mjs [srcDir]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Each layer with the layers it may import. A layer is the first folder under
 * src/ (for transports/ the first two). Anything missing here is an error, so a
 * new folder must take its place in the order explicitly.
 */
export const LAYERS = {
  protocol: [],
  quic: [],
  http3: ['quic'],
  session: ['protocol'],
  handshake: ['session', 'protocol'],
  'transports/http1': ['handshake', 'session', 'protocol'],
  'transports/http2': ['handshake', 'session', 'protocol'],
  'transports/http3': ['http3', 'quic', 'handshake', 'session', 'protocol'],
  client: ['transports/http1', 'transports/http2', 'transports/http3', 'http3', 'quic', 'handshake', 'session', 'protocol'],
  pubsub: ['session', 'protocol'],
  server: ['pubsub', 'transports/http1', 'transports/http2', 'transports/http3', 'http3', 'quic', 'handshake', 'session', 'protocol'],
  // The conformance runner judges other implementations' frames: it must not
  // share the frame code it judges (src/protocol, src/session).
  conformance: ['client', 'http3', 'quic'],
  cli: ['conformance', 'server', 'pubsub', 'client', 'quic', 'handshake', 'session', 'protocol'],
  // The package entry point re-exports the public API of every layer.
  'index.ts': ['*'],
};

const IMPORT = /(?:^|[\s;])(?:import|export)\s*(?:type\s+)?(?:[\w*{}\s,$]+\sfrom\s*)?\(?\s*['"](\.{1,2}\/[^'"]+)['"]/gm;

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

function layerOf(file) {
  const parts = file.split('/');
  if (parts.length === 1) return parts[0];
  return parts[0] === 'transports' ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph) {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (node) => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node), low.get(next)));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node), indices.get(next)));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

export function checkImports(srcDir) {
  const root = resolve(srcDir);
  const graph = new Map();
  const problems = [];
  for (const path of sourceFiles(root)) {
    const file = relative(root, path);
    const targets = [];
    for (const match of readFileSync(path, 'utf8').matchAll(IMPORT)) {
      const target = relative(root, resolve(dirname(path), match[1])).replace(/\.js$/, '.ts');
      targets.push(target);
      const from = layerOf(file);
      const to = layerOf(target);
      const allowed = LAYERS[from];
      if (allowed === undefined) problems.push(`${file}: folder ${from} has no place in LAYERS`);
      else if (from !== to && !allowed.includes('*') && !allowed.includes(to)) {
        problems.push(`${file} imports ${target}: ${from} may import only ${allowed.join(', ') || 'nothing'}`);
      }
    }
    graph.set(file, targets);
  }
  for (const component of cycles(graph)) problems.push(`import cycle: ${component.join(' <-> ')}`);
  return { files: graph.size, problems: [...new Set(problems)] };
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('check-imports.mjs')) {
  const { files, problems } = checkImports(process.argv[2] ?? 'src');
  for (const problem of problems) process.stderr.write(`${problem}\n`);
  process.stdout.write(`check-imports: ${files} files, ${problems.length} problem(s)\n`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
