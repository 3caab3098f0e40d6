// The published package, as a user gets it: `npm pack` of the built dist
// (`npm test` builds first), unpacked into an empty project with its runtime
// dependencies (copied, since the npm cache holds tarballs but not the
// registry metadata `npm install --offline` needs to resolve ranges), then
// used from ESM and from CommonJS (Node 20 cannot require() ESM, so the
// package has a CommonJS entry), and a consumer type-checked under strict
// against the packed declarations, which must not show internal methods.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import ts from 'typescript';
import { STRICT_CONSUMER } from '../helpers/strict-consumer.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const project = mkdtempSync(path.join(tmpdir(), 'trident-pack-'));
t.teardown(() => rmSync(project, { recursive: true, force: true }));
const installed = path.join(project, 'node_modules/trident-ws');

interface PackResult {
  filename: string;
  files: Array<{ path: string }>;
}

let packed: PackResult;

/** Where Node would find package `name` from `dir` (node_modules of dir and its parents, up to the repository). */
function findPackage(name: string, dir: string): string | undefined {
  for (let at = dir; at.startsWith(root); at = path.dirname(at)) {
    const candidate = path.join(at, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
  }
  return undefined;
}

/**
 * Installs the package's runtime dependencies the way `npm install` would,
 * offline: every package its package.json names (dependencies, and the
 * optional ones that are installed here), and theirs, copied from this
 * repository's node_modules at the same relative paths. Copies, not links:
 * Node follows links to their real path, from where it would also find
 * packages the manifest forgot to declare.
 */
function installDependencies(manifest: string, from: string): void {
  const seen = new Set<string>();
  const visit = (dir: string, manifestPath: string) => {
    const { dependencies = {}, optionalDependencies = {} } = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, Record<string, string>>;
    for (const name of Object.keys({ ...dependencies, ...optionalDependencies })) {
      const found = findPackage(name, dir);
      if (found === undefined) {
        if (name in optionalDependencies) continue;
        throw new Error(`${name} (needed by ${manifestPath}) is not installed`);
      }
      if (seen.has(found)) continue;
      seen.add(found);
      cpSync(found, path.join(project, path.relative(root, found)), { recursive: true });
      visit(found, path.join(found, 'package.json'));
    }
  };
  visit(from, manifest);
}

t.before(async () => {
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], { cwd: root });
  packed = (JSON.parse(stdout) as PackResult[])[0];
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  mkdirSync(installed, { recursive: true });
  await run('tar', ['xzf', path.join(project, packed.filename), '-C', installed, '--strip-components=1']);
  installDependencies(path.join(installed, 'package.json'), root);
});

/** An echo over a real loopback connection through the installed package; prints what it saw as JSON. */
const echoProgram = (load: string) => `${load}
const wss = new WebSocketServer({ noServer: true });
wss.on('connection', (ws, request) => ws.on('message', (data) => ws.send(String(data) + ' from ' + request.socket.remoteFamily)));
wss.listen({ host: '127.0.0.1', port: 0 }).then(({ port }) => {
  const ws = new WebSocket('ws://127.0.0.1:' + port + '/');
  ws.on('open', () => ws.send('hello'));
  ws.on('message', (data) => {
    let internal = 'exported';
    try { require_('trident-ws/dist/server/context.js'); } catch (error) { internal = error.code; }
    console.log(JSON.stringify({ echo: String(data), quic: typeof quicAvailable(), internal }));
    ws.close();
    wss.close();
  });
});
`;

t.test('the tarball holds the build, the sources its maps point at, and no tests', async (t) => {
  const files = new Set(packed.files.map((file) => file.path));
  for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json', 'src/index.ts', 'LICENSE', 'package.json']) {
    t.ok(files.has(file), file);
  }
  t.same([...files].filter((file) => file.startsWith('test/')), [], 'no tests');
  const maps = [...files].filter((file) => file.endsWith('.map'));
  t.ok(maps.length > 10, `${maps.length} source maps`);
  const dangling: string[] = [];
  for (const map of maps) {
    const { sources } = JSON.parse(readFileSync(path.join(installed, map), 'utf8')) as { sources: string[] };
    for (const source of sources) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(map), source));
      if (!files.has(target)) dangling.push(`${map} -> ${source}`);
    }
  }
  t.same(dangling, [], 'every source map points at a shipped source');
});

t.test('ESM: import from the installed package', async (t) => {
  const file = path.join(project, 'esm.mjs');
  writeFileSync(file, echoProgram("import { WebSocket, WebSocketServer, quicAvailable } from 'trident-ws';\nimport { createRequire } from 'node:module';\nconst require_ = createRequire(import.meta.url);"));
  const { stdout } = await run(process.execPath, [file], { cwd: project, timeout: 20_000 });
  t.same(JSON.parse(stdout), { echo: 'hello from IPv4', quic: 'boolean', internal: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
});

t.test('CommonJS: require() the installed package', async (t) => {
  const file = path.join(project, 'cjs.cjs');
  writeFileSync(file, echoProgram("const { WebSocket, WebSocketServer, quicAvailable } = require('trident-ws');\nconst require_ = require;"));
  const { stdout } = await run(process.execPath, [file], { cwd: project, timeout: 20_000 });
  t.same(JSON.parse(stdout), { echo: 'hello from IPv4', quic: 'boolean', internal: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
});

// A consumer written against the public API. Each `@ts-expect-error` line
// must be an error: an internal method that reappears in the published
// declarations makes the directive unused, which is itself an error.
const consumer = `import { WebSocket, WebSocketServer, HandshakeError, type HandshakeRequest, type ServerOptions, type SendCallback, type RemoteSocket } from 'trident-ws';
const options: ServerOptions = { noServer: true, maxMessageSize: Infinity, perMessageDeflate: { threshold: 0 } };
const wss = new WebSocketServer(options, () => {});
wss.on('connection', (ws: WebSocket, request: HandshakeRequest) => {
  const socket: RemoteSocket = request.socket;
  const address: string | undefined = socket.remoteAddress;
  ws.on('message', (data, isBinary: boolean) => ws.send(data as Buffer, { binary: isBinary }));
  ws.on('close', (code: number, reason: string) => void [code, reason, address]);
  const done: SendCallback = (error) => void error;
  const backpressure: boolean = ws.send('x', done);
  ws.ping('p', false, done);
  void backpressure;
  // @ts-expect-error internal: sessions are bound by the server front-ends
  ws.attach;
  // @ts-expect-error internal: transport events
  ws.onChannelData;
  // @ts-expect-error internal: the client handshake's failure path
  ws.failHandshake;
});
const client = new WebSocket('ws://127.0.0.1:1/', ['chat'], { transport: 'h1', closeTimeout: 1000 });
client.on('error', (error) => {
  if (error instanceof HandshakeError) void error.status;
});
void wss.close();
`;

/** Type-checks the files as one program (one load of @types/node); returns the program and each file's errors. */
function typeCheck(files: Record<string, string>): { program: ts.Program; errors: Record<string, string[]> } {
  const options: ts.CompilerOptions = { ...STRICT_CONSUMER, typeRoots: [path.join(root, 'node_modules/@types')] };
  for (const name of Object.keys(files)) writeFileSync(path.join(project, name), files[name]);
  const program = ts.createProgram(Object.keys(files).map((name) => path.join(project, name)), options);
  const errors: Record<string, string[]> = {};
  for (const name of Object.keys(files)) {
    const file = program.getSourceFile(path.join(project, name))!;
    errors[name] = ts.getPreEmitDiagnostics(program, file).map((diagnostic) => {
      const line = file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1;
      return `${name}:${line} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
  }
  return { program, errors };
}

t.test('a strict TypeScript consumer type-checks against the packed declarations, from ESM and CommonJS', async (t) => {
  const { program, errors } = typeCheck({
    'consumer.mts': consumer,
    'consumer.cts': consumer,
    // Proof that the check can fail: an internal method used without @ts-expect-error.
    'negative.mts': "import { WebSocket } from 'trident-ws';\ndeclare const ws: WebSocket;\nws.onChannelDrain();\n",
  });
  t.same(errors['consumer.mts'], [], 'ESM consumer');
  t.same(errors['consumer.cts'], [], 'CommonJS consumer');
  t.equal(errors['negative.mts'].length, 1, errors['negative.mts'].join('\n'));
  t.match(errors['negative.mts'][0], /onChannelDrain/);
  const resolved = program.getSourceFiles().map((file) => path.relative(installed, file.fileName));
  t.ok(resolved.includes('dist/index.d.ts'), 'ESM resolves the ESM entry types');
  t.ok(resolved.includes('dist/cjs/index.d.ts'), 'CommonJS resolves the CommonJS entry types');
});
