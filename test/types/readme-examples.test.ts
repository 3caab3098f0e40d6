// Every ```ts block of README.md must compile under `strict`, importing
// 'trident-ws' from src/index.ts: examples that drift from the API fail here.
// A few negative snippets prove the check (and the typed events) can fail.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';
import { STRICT_CONSUMER } from '../helpers/strict-consumer.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Snippet {
  name: string;
  /** README line of the block's first code line, for error messages. */
  line: number;
  code: string;
}

function readmeBlocks(): Snippet[] {
  const lines = readFileSync(path.join(root, 'README.md'), 'utf8').split('\n');
  const blocks: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== '```') end++;
    blocks.push({ name: `README.md:${start + 1}`, line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** Type-checks each snippet as its own ES module; returns the diagnostics per snippet, as `file:line: message`. */
function typeCheck(snippets: readonly Snippet[]): string[][] {
  const options: ts.CompilerOptions = {
    ...STRICT_CONSUMER,
    verbatimModuleSyntax: true,
    paths: { 'trident-ws': [path.join(root, 'src/index.ts')] },
  };
  const files = new Map(snippets.map((snippet, index) => [path.join(root, `readme-snippet-${index}.mts`), snippet]));
  const host = ts.createCompilerHost(options);
  const realGetSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const snippet = files.get(path.resolve(fileName));
    if (snippet) return ts.createSourceFile(fileName, snippet.code, languageVersion, true);
    return realGetSourceFile(fileName, languageVersion, ...rest);
  };
  const realFileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => files.has(path.resolve(fileName)) || realFileExists(fileName);
  const program = ts.createProgram([...files.keys()], options, host);
  return [...files.entries()].map(([fileName, snippet]) => {
    const sourceFile = program.getSourceFile(fileName)!;
    const diagnostics = [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)];
    return diagnostics.map((diagnostic) => {
      const { line } = sourceFile.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      return `${path.basename(snippet.name.split(':')[0])}:${snippet.line + line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
  });
}

const readme = readmeBlocks();
const negatives: Snippet[] = [
  // Without typed events `code` would be `any` and this would compile.
  { name: 'close code is a number', line: 1, code: "import { WebSocket } from 'trident-ws';\nnew WebSocket('ws://x').on('close', (code) => { const wrong: string = code; });" },
  { name: 'isBinary is a boolean', line: 1, code: "import { WebSocket } from 'trident-ws';\nnew WebSocket('ws://x').on('message', (data, isBinary) => { const wrong: string = isBinary; });" },
  {
    name: 'the connection request is a HandshakeRequest',
    line: 1,
    code: "import { WebSocketServer } from 'trident-ws';\nnew WebSocketServer({ noServer: true }).on('connection', (ws, request) => { const wrong: number = request.url; });",
  },
  {
    name: "'headers' gets string lines",
    line: 1,
    code: "import { WebSocketServer } from 'trident-ws';\nnew WebSocketServer({ noServer: true }).on('headers', (headers, request) => { const wrong: number[] = headers; void request; });",
  },
  {
    name: "'upgrade' gets { status, headers }",
    line: 1,
    code: "import { WebSocket } from 'trident-ws';\nnew WebSocket('ws://x').on('upgrade', (response) => { const wrong: string = response.status; });",
  },
  { name: 'unknown transport names are refused', line: 1, code: "import { WebSocket } from 'trident-ws';\nnew WebSocket('ws://x', { transport: 'http/2' });" },
  // The WHATWG surface is typed per event too: onmessage's event has data, onclose's has code.
  { name: 'onmessage data is a message, not a number', line: 1, code: "import { WebSocket } from 'trident-ws';\nnew WebSocket('ws://x').onmessage = (event) => { const wrong: number = event.data; };" },
  {
    name: "addEventListener('close') gets a CloseEvent",
    line: 1,
    code: "import { WebSocket } from 'trident-ws';\nnew WebSocket('ws://x').addEventListener('close', (event) => { const wrong: string = event.code; });",
  },
];
/** Browser-style code that must compile (the typed WHATWG events). */
const positives: Snippet[] = [
  {
    name: 'browser-style listeners',
    line: 1,
    code: [
      "import { WebSocket } from 'trident-ws';",
      "const ws = new WebSocket('ws://x');",
      'ws.binaryType = \'arraybuffer\';',
      "ws.onmessage = (event) => { if (typeof event.data === 'string') event.data.toUpperCase(); };",
      "ws.addEventListener('close', (event) => { const clean: boolean = event.wasClean; void clean; void event.code; void event.reason; });",
      "ws.addEventListener('error', { handleEvent: (event) => void event.message });",
      "ws.onopen = () => ws.send('hi');",
    ].join('\n'),
  },
];
const results = typeCheck([...readme, ...negatives, ...positives]);

t.test('the README has TypeScript examples', async (t) => {
  t.ok(readme.length >= 6, `found ${readme.length} ts blocks`);
});

readme.forEach((snippet, index) => {
  t.test(`${snippet.name} compiles under strict`, async (t) => {
    t.same(results[index], []);
  });
});

positives.forEach((snippet, index) => {
  t.test(`compiles: ${snippet.name}`, async (t) => {
    t.same(results[readme.length + negatives.length + index], []);
  });
});

negatives.forEach((snippet, index) => {
  t.test(`a type error is caught: ${snippet.name}`, async (t) => {
    const errors = results[readme.length + index];
    t.equal(errors.length, 1, errors.join('\n'));
    t.match(errors[0], /not assignable/);
  });
});
