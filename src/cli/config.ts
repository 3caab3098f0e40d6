import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * The package root, where `certs/` and `scripts/` live: two levels above this
 * file in both src/cli and dist/cli. Default certificate paths hang off it, so
 * they do not change with the directory the binary is started from.
 */
export const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const DEFAULT_CERT = join(PACKAGE_ROOT, 'certs', 'server.crt');
const DEFAULT_KEY = join(PACKAGE_ROOT, 'certs', 'server.key');

/** TLS was asked for (--port, --cert or --key) but its files are missing. */
export class MissingCertificateError extends Error {}

export interface ServeConfig {
  host: string;
  /** TLS port (wss:// and https://); null when switched off or, without TLS flags, no certificate was found. */
  port: number | null;
  /** Cleartext port (ws:// and http://); null when switched off. */
  httpPort: number | null;
  /** Cleartext HTTP/2 port with prior knowledge (h2c); null unless asked for. */
  h2cPort: number | null;
  /** Absolute paths of the certificate and key (looked for even when not found). */
  cert: string;
  key: string;
  /** No TLS flag was given and the default certificate is missing: serve cleartext only, with a warning. */
  noCertificate: boolean;
  logLevel: string;
  maxMessageSize?: number;
  maxFramesPerMessage?: number;
  maxBufferedAmount?: number;
  closeTimeout?: number;
  heartbeatInterval: number;
  handshakeTimeout?: number;
  maxHeaderSize?: number;
  deflate: boolean;
  /** Serve HTTP/3 (RFC 9220) on UDP beside the TLS port. */
  http3: boolean;
  allowedOrigins?: string[];
  /** Port of the Prometheus `/metrics` listener (cleartext, on `host`); null when off (the default). */
  metricsPort: number | null;
  /** Redis that carries `/chat/<room>` across processes and machines; null: rooms stay in this process (or its workers). */
  redis: { url: string; required: boolean } | null;
  /** Worker processes (node:cluster); 1 serves in this process. */
  workers: number;
}

/** Flag name → environment variable; flags win over the environment. */
const OPTIONS = {
  host: { type: 'string', env: 'TRIDENT_HOST', help: 'address to listen on (default 127.0.0.1)' },
  port: { type: 'string', env: 'TRIDENT_PORT', help: 'TLS port for wss:// (default 8443; "off" disables)' },
  'http-port': { type: 'string', env: 'TRIDENT_HTTP_PORT', help: 'cleartext port for ws:// (default 8080; "off" disables)' },
  'h2c-port': { type: 'string', env: 'TRIDENT_H2C_PORT', help: 'cleartext HTTP/2 (prior knowledge) port, for TLS-terminating proxies (default off)' },
  cert: { type: 'string', env: 'TRIDENT_CERT', help: `certificate PEM (default certs/server.crt in the package root: ${DEFAULT_CERT})` },
  key: { type: 'string', env: 'TRIDENT_KEY', help: `private key PEM (default certs/server.key in the package root: ${DEFAULT_KEY})` },
  'log-level': { type: 'string', env: 'TRIDENT_LOG_LEVEL', help: 'fatal|error|warn|info|debug|trace|silent (default info)' },
  'max-message-size': { type: 'string', env: 'TRIDENT_MAX_MESSAGE_SIZE', help: 'largest message in bytes (default 16 MiB)' },
  'max-frames': { type: 'string', env: 'TRIDENT_MAX_FRAMES', help: 'most frames per message (default 16384)' },
  'max-buffered': { type: 'string', env: 'TRIDENT_MAX_BUFFERED', help: 'most unsent bytes per session (default 16 MiB)' },
  'close-timeout': { type: 'string', env: 'TRIDENT_CLOSE_TIMEOUT', help: 'ms to wait for the close handshake (default 10000)' },
  heartbeat: { type: 'string', env: 'TRIDENT_HEARTBEAT', help: 'ms between keepalive pings; 0 disables (default 30000)' },
  'handshake-timeout': { type: 'string', env: 'TRIDENT_HANDSHAKE_TIMEOUT', help: 'ms a handshake may take (default 10000)' },
  'max-header-size': { type: 'string', env: 'TRIDENT_MAX_HEADER_SIZE', help: 'largest request head in bytes (default 16384)' },
  'no-deflate': { type: 'boolean', env: 'TRIDENT_NO_DEFLATE', help: 'decline permessage-deflate' },
  'no-http3': { type: 'boolean', env: 'TRIDENT_NO_HTTP3', help: 'do not serve HTTP/3 on UDP beside the TLS port' },
  'allowed-origins': { type: 'string', env: 'TRIDENT_ALLOWED_ORIGINS', help: 'comma-separated browser origins allowed (default any)' },
  'metrics-port': { type: 'string', env: 'TRIDENT_METRICS_PORT', help: 'serve Prometheus metrics at /metrics on this port, on --host (default off)' },
  redis: { type: 'string', env: 'TRIDENT_REDIS_URL', help: 'redis://host:6379: chat rooms span every server on this Redis (default off)' },
  'redis-optional': { type: 'boolean', env: 'TRIDENT_REDIS_OPTIONAL', help: 'serve locally while Redis is unreachable at start, instead of exiting 1' },
  workers: { type: 'string', env: 'TRIDENT_WORKERS', help: 'worker processes: a number or "auto" (one per core); default 1' },
  help: { type: 'boolean', env: '', help: 'show this help' },
} as const;

export function usage(): string {
  const lines = ['Usage: trident [serve] [options]', '       trident test <url> [options]   (conformance runner: trident test --help)', '', 'Options (environment variable in brackets):'];
  for (const [name, spec] of Object.entries(OPTIONS)) {
    lines.push(`  --${name.padEnd(18)} ${spec.help}${spec.env ? ` [${spec.env}]` : ''}`);
  }
  return lines.join('\n');
}

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`--${name} must be a non-negative integer, got "${value}"`);
  return number;
}

function port(name: string, value: string | undefined, fallback: number): number | null {
  if (value === 'off') return null;
  const number = integer(name, value) ?? fallback;
  if (number > 65535) throw new Error(`--${name} must be a port number, got "${value}"`);
  return number;
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv): ServeConfig | 'help' {
  const parseOptions = Object.fromEntries(Object.entries(OPTIONS).map(([name, spec]) => [name, { type: spec.type }]));
  const { values, positionals } = parseArgs({ args: argv, options: parseOptions, allowPositionals: true, strict: true });
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'serve')) {
    throw new Error(`unknown command "${positionals.join(' ')}"`);
  }
  const get = (name: keyof typeof OPTIONS): string | undefined => {
    const flag = values[name];
    if (flag !== undefined) return String(flag);
    const variable = OPTIONS[name].env;
    // An empty variable counts as unset, as in most shells' `VAR= cmd` idiom.
    return variable && env[variable] !== '' ? env[variable] : undefined;
  };
  if (get('help') !== undefined) return 'help';
  const flag = (value: string | undefined): boolean => value !== undefined && value !== 'false' && value !== '0';
  const requestedTlsPort = port('port', get('port'), 8443);
  // Paths given on the command line are relative to the current directory, as
  // usual for a command; the defaults are not (see PACKAGE_ROOT).
  const cert = resolve(get('cert') ?? DEFAULT_CERT);
  const key = resolve(get('key') ?? DEFAULT_KEY);
  const config: ServeConfig = {
    host: get('host') ?? '127.0.0.1',
    port: requestedTlsPort,
    httpPort: port('http-port', get('http-port'), 8080),
    h2cPort: get('h2c-port') === undefined ? null : port('h2c-port', get('h2c-port'), 0),
    cert,
    key,
    noCertificate: false,
    logLevel: get('log-level') ?? 'info',
    maxMessageSize: integer('max-message-size', get('max-message-size')),
    maxFramesPerMessage: integer('max-frames', get('max-frames')),
    maxBufferedAmount: integer('max-buffered', get('max-buffered')),
    closeTimeout: integer('close-timeout', get('close-timeout')),
    heartbeatInterval: integer('heartbeat', get('heartbeat')) ?? 30_000,
    handshakeTimeout: integer('handshake-timeout', get('handshake-timeout')),
    maxHeaderSize: integer('max-header-size', get('max-header-size')),
    deflate: !flag(get('no-deflate')),
    http3: !flag(get('no-http3')),
    allowedOrigins: get('allowed-origins')?.split(',').map((origin) => origin.trim()).filter(Boolean),
    metricsPort: get('metrics-port') === undefined ? null : port('metrics-port', get('metrics-port'), 0),
    redis: redisOption(get('redis'), flag(get('redis-optional'))),
    workers: workersOption(get('workers')),
  };
  // The files are checked after every value, so a typo is reported as such.
  const missing = requestedTlsPort === null ? [] : [cert, key].filter((file) => !existsSync(file));
  if (missing.length > 0) {
    // Asked for TLS explicitly: serving without it would hide the mistake.
    if (get('port') !== undefined || get('cert') !== undefined || get('key') !== undefined) {
      throw new MissingCertificateError(missingCertificateMessage(missing, cert, key));
    }
    config.port = null;
    config.noCertificate = true;
  }
  if (config.port === null && config.httpPort === null && config.h2cPort === null) {
    const why = config.noCertificate ? `no certificate at ${cert} (run \`npm run certs\`)` : '--port is off';
    throw new Error(`nothing to serve: --http-port is off and ${why}`);
  }
  return config;
}

function redisOption(url: string | undefined, optional: boolean): ServeConfig['redis'] {
  if (url === undefined) {
    if (optional) throw new Error('--redis-optional needs --redis');
    return null;
  }
  if (!/^rediss?:\/\/[^/]/.test(url)) throw new Error(`--redis must be a redis:// or rediss:// URL, got "${url}"`);
  return { url, required: !optional };
}

function workersOption(value: string | undefined): number {
  if (value === 'auto') return availableParallelism();
  const count = integer('workers', value) ?? 1;
  if (count < 1) throw new Error(`--workers must be "auto" or at least 1, got "${value}"`);
  return count;
}

/** Names the files looked for and the commands that create them. */
function missingCertificateMessage(missing: string[], cert: string, key: string): string {
  const state = (file: string): string => (missing.includes(file) ? 'missing' : 'found');
  const dir = dirname(cert);
  return [
    'TLS was asked for (--port, --cert or --key) but its files are missing:',
    `  certificate ${cert} (${state(cert)})`,
    `  key         ${key} (${state(key)})`,
    'Create development certificates with',
    `  npm run certs    (in ${PACKAGE_ROOT}; writes ${join(PACKAGE_ROOT, 'certs', 'server.crt')} and server.key)`,
    `or sh ${join(PACKAGE_ROOT, 'scripts', 'gen-certs.sh')} ${dir}    (writes ${join(dir, 'server.crt')} and server.key)`,
    'or serve ws:// only with --port off.',
  ].join('\n');
}
