/**
 * Where the binary looks for its certificate, and what it does when the files
 * are missing: exit 2 with the absolute paths and the commands that create
 * them when TLS was asked for; serve ws:// only with a warning when not.
 * Default paths hang off the package root, never the current directory.
 */
import { join } from 'node:path';
import t from 'tap';
import { copyPackage, makeCerts, makeTempDir, runBinary, startBinary } from '../helpers/binary.js';

/** A binary that wrongly serves instead of exiting is killed after this. */
const EXIT_WITHIN_MS = 5000;

/** Runs the copied package's binary with ephemeral ports only. */
function runCopy(root: string, args: string[], cwd?: string): ReturnType<typeof runBinary> {
  const binary = join(root, 'dist', 'cli', 'main.js');
  return runBinary(['serve', '--host', '127.0.0.1', '--http-port', '0', '--no-http3', ...args], {}, EXIT_WITHIN_MS, { binary, cwd });
}

t.test('--port with the default certificate missing: exit 2 naming the package-root paths and the commands', async (t) => {
  const root = copyPackage();
  // Certificates in the current directory must not be picked up by the defaults.
  const cwd = makeTempDir('trident-cwd-');
  await makeCerts(20_000, join(cwd, 'certs'));
  const result = await runCopy(root, ['--port', '0'], cwd);
  t.equal(result.code, 2, 'exit code 2');
  t.ok(result.stderr.includes(`certificate ${join(root, 'certs', 'server.crt')} (missing)`), 'names the absolute certificate path in the package root');
  t.ok(result.stderr.includes(`key         ${join(root, 'certs', 'server.key')} (missing)`), 'names the absolute key path in the package root');
  t.notOk(result.stderr.includes(cwd), 'the current directory plays no part');
  t.match(result.stderr, /npm run certs/, 'names `npm run certs`');
  t.ok(result.stderr.includes(`sh ${join(root, 'scripts', 'gen-certs.sh')} ${join(root, 'certs')}`), 'names the gen-certs.sh command for that directory');
  t.notMatch(result.stderr, /Usage:/, 'no usage text: the command line was fine');
  t.equal(result.stdout, '', 'nothing served, nothing logged');
});

t.test('--port from the environment (TRIDENT_PORT) counts as asking for TLS too', async (t) => {
  const root = copyPackage();
  const binary = join(root, 'dist', 'cli', 'main.js');
  const result = await runBinary(['serve', '--host', '127.0.0.1', '--http-port', '0'], { TRIDENT_PORT: '0' }, EXIT_WITHIN_MS, { binary });
  t.equal(result.code, 2, 'exit code 2');
  t.ok(result.stderr.includes(join(root, 'certs', 'server.crt')), 'names the certificate path');
});

t.test('--cert/--key given and missing: exit 2 naming them resolved against the current directory', async (t) => {
  const cwd = makeTempDir('trident-cwd-');
  const certDir = await makeCerts();
  // The key exists, the certificate does not: the message says which is which.
  const result = await runBinary(
    ['serve', '--host', '127.0.0.1', '--http-port', '0', '--port', '0', '--cert', 'nope/server.crt', '--key', join(certDir, 'server.key')],
    {},
    EXIT_WITHIN_MS,
    { cwd },
  );
  t.equal(result.code, 2, 'exit code 2');
  t.ok(result.stderr.includes(`certificate ${join(cwd, 'nope', 'server.crt')} (missing)`), 'relative --cert shown as an absolute path under the current directory');
  t.ok(result.stderr.includes(`key         ${join(certDir, 'server.key')} (found)`), 'the key that exists is reported as found');
  t.match(result.stderr, /gen-certs\.sh/, 'names gen-certs.sh');
});

t.test('--cert alone, without --port, also asks for TLS', async (t) => {
  const result = await runBinary(['serve', '--host', '127.0.0.1', '--http-port', '0', '--cert', '/nonexistent/trident/server.crt'], {}, EXIT_WITHIN_MS);
  t.equal(result.code, 2, 'exit code 2');
  t.ok(result.stderr.includes('certificate /nonexistent/trident/server.crt (missing)'), 'names the path');
});

t.test('no TLS flag and no certificate: serves ws:// only and says where it looked', async (t) => {
  const root = copyPackage();
  const bin = await startBinary(['--no-http3'], {}, { tls: 'none', binary: join(root, 'dist', 'cli', 'main.js') });
  t.teardown(() => bin.kill());
  const warning = await bin.waitForLog((l) => l.msg?.startsWith('no certificate found') === true, { what: 'the no-certificate warning' });
  t.equal(warning.cert, join(root, 'certs', 'server.crt'), 'the warning names the certificate path');
  t.equal(warning.key, join(root, 'certs', 'server.key'), 'the warning names the key path');
  t.notOk(bin.logs.some((l) => l.msg === 'listening' && l.tls === true), 'no TLS listener');
  t.equal(await bin.stop('SIGTERM'), 0, 'exit code 0');
});

t.test('default paths: certificates in the package root are used from any current directory', async (t) => {
  const root = copyPackage();
  const certDir = await makeCerts(20_000, join(root, 'certs'));
  const bin = await startBinary(['--no-http3'], {}, { tls: 'default-paths', certDir, binary: join(root, 'dist', 'cli', 'main.js'), cwd: makeTempDir('trident-cwd-') });
  t.teardown(() => bin.kill());
  t.ok(bin.tlsPort > 0, 'a TLS listener started');
  t.equal(await bin.stop('SIGTERM'), 0, 'exit code 0');
});

t.test('--help says the default certificate paths are in the package root, and where that is', async (t) => {
  const root = copyPackage();
  const result = await runBinary(['--help'], {}, EXIT_WITHIN_MS, { binary: join(root, 'dist', 'cli', 'main.js') });
  t.equal(result.code, 0, 'exit code 0');
  t.ok(result.stdout.includes(`certs/server.crt in the package root: ${join(root, 'certs', 'server.crt')}`), '--cert default explained');
  t.ok(result.stdout.includes(`certs/server.key in the package root: ${join(root, 'certs', 'server.key')}`), '--key default explained');
});
