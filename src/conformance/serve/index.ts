/**
 * `trident test --serve`: client mode of the conformance runner, a fuzzing
 * server speaking Autobahn's fuzzingserver protocol (see fuzzing-server.ts)
 * until SIGINT/SIGTERM.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startFuzzingServer, type FuzzingServerOptions } from './fuzzing-server.js';

export { startFuzzingServer, type FuzzingServer, type FuzzingServerOptions } from './fuzzing-server.js';
export { SERVE_CASES, selectCases, type ServeCase } from './cases.js';

/** The package root (dist/conformance/serve/ or src/conformance/serve/ is three levels below). */
const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

export const SERVE_USAGE = `usage: trident test --serve [--host H] [--port N|off] [--tls-port N|off] [--cert f --key f]
                          [--no-http3] [--cases 1.*,9.1.1] [--outdir dir]
  A fuzzing server for WebSocket clients (Autobahn's fuzzingserver protocol):
  /getCaseCount, /getCaseInfo?case=N, /runCase?case=N&agent=A,
  /getCaseStatus?case=N&agent=A, /updateReports?agent=A.
  --port      plain HTTP/1.1 port (default 9001)
  --tls-port  TLS port: HTTP/1.1 and HTTP/2 (RFC 8441) over TCP, HTTP/3 (RFC 9220) over UDP
              (default 9443 when a certificate is found, else off)
  --cert/--key  PEM files (default certs/server.crt and certs/server.key in ${PACKAGE_ROOT})
  --outdir    where /updateReports writes <agent>.json (default reports/clients)
`;

class UsageError extends Error {}

function portOption(value: string | undefined, fallback: number | null, name: string): number | null {
  if (value === undefined) return fallback;
  if (value === 'off') return null;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--${name} must be a port number or off, not "${value}"`);
  return port;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Turns the command line into server options; throws UsageError. */
export function parseServeArgs(argv: string[]): FuzzingServerOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      serve: { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      'tls-port': { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'no-http3': { type: 'boolean' },
      cases: { type: 'string' },
      outdir: { type: 'string' },
    },
    strict: true,
  });
  const certFile = values.cert ?? join(PACKAGE_ROOT, 'certs', 'server.crt');
  const keyFile = values.key ?? join(PACKAGE_ROOT, 'certs', 'server.key');
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
  const haveCertificate = existsSync(certFile) && existsSync(keyFile);
  const tlsPort = portOption(values['tls-port'], haveCertificate ? 9443 : null, 'tls-port');
  if (tlsPort !== null && !haveCertificate) throw new UsageError(`the TLS port needs a certificate: none at ${certFile} / ${keyFile} (run \`npm run certs\` or give --cert and --key)`);
  const options: FuzzingServerOptions = {
    host: values.host ?? '127.0.0.1',
    port: portOption(values.port, 9001, 'port'),
    tlsPort,
    http3: values['no-http3'] !== true,
    outdir: values.outdir ?? join('reports', 'clients'),
    version: packageVersion(),
  };
  if (values.cases !== undefined) options.cases = values.cases;
  if (tlsPort !== null) Object.assign(options, { cert: readFileSync(certFile), key: readFileSync(keyFile) });
  if (options.port === null && options.tlsPort === null) throw new UsageError('both ports are off');
  return options;
}

/**
 * Runs the fuzzing server until SIGINT/SIGTERM (or `signal`); resolves with
 * the exit code: 0 after a clean stop, 2 for usage errors, 1 when it cannot start.
 */
export async function runServeCommand(argv: string[], signal?: AbortSignal): Promise<number> {
  let options: FuzzingServerOptions;
  try {
    options = parseServeArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${SERVE_USAGE}`);
    return 2;
  }
  options.onResult = (agent, result) => process.stdout.write(`${agent}  ${result.transport}  ${result.id}  ${result.verdict}${result.verdict === 'OK' ? '' : `  ${result.reason}`}\n`);
  options.onReports = (files) => process.stdout.write(`reports: ${files.map((file) => file.replace(/\.json$/, '.{json,html,xml}')).join(', ')}\n`);
  let server;
  try {
    server = await startFuzzingServer(options);
  } catch (error) {
    process.stderr.write(`trident test --serve: ${(error as Error).message}\n`);
    return 1;
  }
  const host = options.host!.includes(':') ? `[${options.host}]` : options.host;
  const lines = [`fuzzing server: ${server.cases.length} cases, reports in ${options.outdir}`];
  if (server.ports.plain !== undefined) lines.push(`  ws://${host}:${server.ports.plain}  (HTTP/1.1)`);
  if (server.ports.tls !== undefined) lines.push(`  wss://${host}:${server.ports.tls}  (HTTP/1.1, HTTP/2${server.ports.h3 !== undefined ? ', HTTP/3' : ''})`);
  process.stdout.write(lines.join('\n') + '\n');
  await new Promise<void>((resolveStop) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveStop();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (signal?.aborted) stop();
    signal?.addEventListener('abort', stop, { once: true });
  });
  await server.close();
  return 0;
}
