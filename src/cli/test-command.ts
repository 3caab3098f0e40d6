/**
 * `trident test <url>`: runs the conformance suite (src/conformance) against
 * anyone's WebSocket server over HTTP/1.1, HTTP/2 and HTTP/3 and writes the
 * reports. Exit code 0 only when no case FAILED, 1 when one did, 2 for usage
 * errors, so CI pipelines can gate on it. `trident test --serve …` is client
 * mode (src/conformance/serve/), dispatched from here.
 */
import { readFileSync } from 'node:fs';
import { writeReports } from '../conformance/reports/index.js';
import type { CaseResult, ConformanceReport, ConformanceTransport } from '../conformance/report-types.js';
import { runSuite } from '../conformance/suite.js';
import type { ConformanceTarget } from '../conformance/target.js';
import { createHttp1Target } from '../conformance/targets/http1.js';
import { createHttp2Target } from '../conformance/targets/http2.js';
import { createHttp3Target } from '../conformance/targets/http3.js';
import type { TargetOptions } from '../conformance/targets/options.js';

export const TEST_USAGE = `usage: trident test <ws://host:port/path | wss://host:port/path> [options]
       trident test --serve [client-mode options]

  --transport h1|h2|h3|all   transports to test (default: all for wss://, h1 for ws://;
                             over ws://, h2 means h2c with prior knowledge and h3 is unavailable)
  --cases 1.*,9.1.*,7.1.1    run only these cases ('*' after a dot: the whole sub-tree)
  --insecure                 do not verify the server's certificate
  --ca file.pem              trust this CA for the server's certificate
  --timeout ms               per-wait timeout (default 2000); each case's deadline is 10 waits
  --max-message-size bytes   the server's message size limit (enables the limit cases of category 30)
  --max-frames n             the server's frames-per-message limit
  --json out.json  --html out.html  --junit out.xml   write reports
  --quiet                    no per-case progress lines`;

class UsageError extends Error {}

export interface TestCommandOptions {
  url: URL;
  transports: ConformanceTransport[];
  cases?: string[];
  insecure: boolean;
  ca?: Buffer;
  timeoutMs: number;
  limits?: { maxMessageSize: number; maxFrames?: number };
  json?: string;
  html?: string;
  junit?: string;
  quiet: boolean;
}

const TRANSPORT_NAMES: Record<string, ConformanceTransport[]> = { h1: ['http/1.1'], h2: ['h2'], h3: ['h3'] };

function positiveInteger(name: string, value: string | undefined): number {
  if (value === undefined || !/^[1-9][0-9]*$/.test(value)) throw new UsageError(`--${name} needs a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function parseTestArgs(argv: readonly string[]): TestCommandOptions | 'help' {
  let url: string | undefined;
  const flags = new Map<string, string>();
  const booleans = new Set<string>();
  const valued = new Set(['transport', 'cases', 'ca', 'timeout', 'json', 'html', 'junit', 'max-message-size', 'max-frames']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      if (valued.has(name)) {
        const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        flags.set(name, value);
      } else if (name === 'insecure' || name === 'quiet') booleans.add(name);
      else throw new UsageError(`unknown option ${arg}`);
    } else if (url === undefined) url = arg;
    else throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
  }
  if (url === undefined) throw new UsageError('the URL of the server to test is missing');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new UsageError(`the URL must start with ws:// or wss://, got ${parsed.protocol}//`);
  const secure = parsed.protocol === 'wss:';
  const t = flags.get('transport') ?? (secure ? 'all' : 'h1');
  const transports = t === 'all' ? (secure ? ['http/1.1', 'h2', 'h3'] : ['http/1.1', 'h2']) : TRANSPORT_NAMES[t];
  if (!transports) throw new UsageError(`--transport must be h1, h2, h3 or all, got ${JSON.stringify(t)}`);
  if (!secure && transports.includes('h3')) throw new UsageError('HTTP/3 needs TLS: use a wss:// URL');
  if (booleans.has('insecure') && flags.has('ca')) throw new UsageError('--insecure and --ca exclude each other');
  const o: TestCommandOptions = {
    url: parsed,
    transports: transports as ConformanceTransport[],
    insecure: booleans.has('insecure'),
    quiet: booleans.has('quiet'),
    timeoutMs: flags.has('timeout') ? positiveInteger('timeout', flags.get('timeout')) : 2000,
  };
  const cases = flags.get('cases');
  if (cases !== undefined) o.cases = cases.split(',').map((c) => c.trim()).filter(Boolean);
  const ca = flags.get('ca');
  if (ca !== undefined) {
    try {
      o.ca = readFileSync(ca);
    } catch (e) {
      throw new UsageError(`cannot read --ca ${ca}: ${(e as Error).message}`);
    }
  }
  if (flags.has('max-message-size')) {
    o.limits = { maxMessageSize: positiveInteger('max-message-size', flags.get('max-message-size')) };
    if (flags.has('max-frames')) o.limits.maxFrames = positiveInteger('max-frames', flags.get('max-frames'));
  } else if (flags.has('max-frames')) throw new UsageError('--max-frames needs --max-message-size too');
  for (const k of ['json', 'html', 'junit'] as const) {
    const v = flags.get(k);
    if (v !== undefined) o[k] = v;
  }
  return o;
}

/** One target per transport for the URL. */
export function targetsFor(o: TestCommandOptions): ConformanceTarget[] {
  const secure = o.url.protocol === 'wss:';
  const host = o.url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(o.url.port || (secure ? 443 : 80));
  const common: TargetOptions = {
    path: `${o.url.pathname}${o.url.search}`,
    timeoutMs: o.timeoutMs,
    ...(o.limits ? { limits: o.limits } : {}),
  };
  const ca = o.ca;
  return o.transports.map((t) => {
    if (t === 'http/1.1') {
      const tls = secure ? { ...(ca ? { ca } : {}), rejectUnauthorized: !o.insecure, ...(/^[\d.:]+$/.test(host) ? {} : { servername: host }) } : undefined;
      return createHttp1Target({ ...common, name: 'http/1.1', host, port, ...(tls ? { tls } : {}) });
    }
    if (t === 'h2') {
      const origin = `${secure ? 'https' : 'http'}://${o.url.host}`;
      return createHttp2Target({ ...common, name: 'h2', origin, ca, insecure: o.insecure });
    }
    return createHttp3Target({ ...common, name: 'h3', host, port, ca, insecure: o.insecure });
  });
}

function toolVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function summary(results: readonly CaseResult[], transports: readonly ConformanceTransport[]): string {
  const lines: string[] = [];
  for (const t of transports) {
    const mine = results.filter((r) => r.transport === t);
    const counts = (['OK', 'NON-STRICT', 'INFORMATIONAL', 'UNIMPLEMENTED', 'FAILED'] as const).map((v) => `${v} ${mine.filter((r) => r.verdict === v).length}`);
    lines.push(`${t}: ${mine.length} cases: ${counts.join(', ')}`);
  }
  for (const r of results.filter((x) => x.verdict === 'FAILED')) lines.push(`FAILED ${r.transport} ${r.id} ${r.title}: ${r.reason}`);
  return lines.join('\n') + '\n';
}

/** Runs server mode; resolves with the exit code. */
export async function runTestCommand(argv: readonly string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  if (argv.includes('--serve')) return runServeMode(argv.filter((a) => a !== '--serve'), err);
  let o: TestCommandOptions | 'help';
  try {
    o = parseTestArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err.write(`trident test: ${e.message}\n${TEST_USAGE}\n`);
    return 2;
  }
  if (o === 'help') {
    out.write(TEST_USAGE + '\n');
    return 0;
  }
  const startedAt = new Date();
  const started = performance.now();
  const results: CaseResult[] = [];
  for (const target of targetsFor(o)) {
    const onResult = o.quiet ? undefined : (r: CaseResult) => out.write(`${r.transport} ${r.id} ${r.verdict} ${r.durationMs} ms${r.verdict === 'FAILED' ? `: ${r.reason}` : ''}\n`);
    results.push(...(await runSuite(target, { ...(o.cases ? { select: o.cases } : {}), ...(onResult ? { onResult } : {}) })));
  }
  const report: ConformanceReport = {
    schema: 1,
    tool: { name: 'trident test', version: toolVersion() },
    mode: 'server',
    subject: o.url.href,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    results,
  };
  await writeReports(report, { json: o.json, html: o.html, junit: o.junit });
  out.write(summary(results, o.transports));
  if (results.length === 0) {
    err.write('trident test: no case matched --cases\n');
    return 2;
  }
  return results.some((r) => r.verdict === 'FAILED') ? 1 : 0;
}

interface ServeModule {
  runServeCommand(argv: string[]): Promise<number>;
}

/**
 * Client mode lives in src/conformance/serve/index.ts (built separately); it is
 * loaded by a computed path so that server mode builds and runs without it.
 */
async function runServeMode(argv: string[], err: NodeJS.WritableStream): Promise<number> {
  const modulePath = '../conformance/serve/index.js';
  let mod: Partial<ServeModule>;
  try {
    mod = (await import(modulePath)) as Partial<ServeModule>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    mod = {};
  }
  if (typeof mod.runServeCommand !== 'function') {
    err.write('trident test --serve: client mode not built\n');
    return 2;
  }
  return mod.runServeCommand(argv);
}
