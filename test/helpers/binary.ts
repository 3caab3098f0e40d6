/**
 * Runs the real `trident` binary (dist/cli/main.js) as a child process for
 * black-box tests: generates certificates, starts `serve` on ephemeral ports,
 * reads the ports from the JSON log lines, keeps every log line, and stops or
 * kills exactly the process it started (by PID).
 *
 * The binary must have been built first (`npx tsc -p tsconfig.json`); set
 * TRIDENT_TEST_BINARY to run the same tests against another main.js.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built binary; TRIDENT_TEST_BINARY points the tests at another build. */
export const BINARY = process.env.TRIDENT_TEST_BINARY ?? join(ROOT, 'dist', 'cli', 'main.js');
const GEN_CERTS = join(ROOT, 'scripts', 'gen-certs.sh');

/** One parsed pino line. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface StartOptions {
  /** Directory from makeCerts(); a fresh one is generated when absent. */
  certDir?: string;
  /**
   * How TLS is configured: 'flags' (default) passes --port 0, --cert and --key
   * from certDir; 'default-paths' passes only --port 0, so the binary looks in
   * its own default place (certDir must then be that place, for the CA);
   * 'none' passes no TLS flag at all and waits for the cleartext listener only.
   */
  tls?: 'flags' | 'default-paths' | 'none';
  /** Another main.js to run (a copy in another package root); default BINARY. */
  binary?: string;
  /** The directory the binary runs in; default the test's. */
  cwd?: string;
  /** How long to wait for both "listening" lines; default 10 s. */
  startTimeoutMs?: number;
}

export interface RunningBinary {
  httpPort: number;
  /** 0 when started with `tls: 'none'`. */
  tlsPort: number;
  /** The CA that signed the server's certificate (PEM). */
  caPem: string;
  certDir: string;
  process: ChildProcess;
  pid: number;
  /** Every JSON line the binary printed on stdout, parsed, in order. */
  logs: LogLine[];
  /** Lines on stdout that were not JSON. */
  otherStdout: string[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited and its output has been read. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Resolves with the first log line (at index >= `from`) that matches;
   * rejects after `timeoutMs` (default 5 s) or when the process exits first.
   */
  waitForLog(predicate: (line: LogLine) => boolean, options?: { from?: number; timeoutMs?: number; what?: string }): Promise<LogLine>;
  /**
   * Sends `signal` to the process (by PID) and resolves with its exit code
   * (null if it died of a signal). If it has not exited within `timeoutMs`
   * (default 10 s) it is SIGKILLed and the promise rejects.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** SIGKILL by PID if still running; for t.teardown. Never throws. */
  kill(): void;
  /**
   * Destroys the reading end of the binary's stdout, as a pipe to `head` or a
   * dead log collector would: its next log line meets EPIPE. No log line is
   * collected afterwards.
   */
  closeStdout(): void;
}

/** Children still running, killed by PID if the test process exits first. */
const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.once('exit', () => {
  for (const child of running) killByPid(child, 'SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function killByPid(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || !isRunning(child)) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // already gone
  }
}

/** A fresh temporary directory, removed when the test process exits. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/**
 * Generates a CA and a localhost/127.0.0.1/::1 leaf into `dir`, by default a
 * fresh temp dir (removed at exit).
 */
export async function makeCerts(timeoutMs = 20_000, dir = makeTempDir('trident-certs-')): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    execFile('sh', [GEN_CERTS, dir], { timeout: timeoutMs }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`gen-certs.sh failed: ${error.message}\n${stderr}`));
      else resolve();
    });
  });
  for (const file of ['ca.crt', 'server.crt', 'server.key']) {
    if (!existsSync(join(dir, file))) throw new Error(`gen-certs.sh did not write ${file} in ${dir}`);
  }
  return dir;
}

function assertBuilt(): void {
  if (!existsSync(BINARY)) {
    throw new Error(`${BINARY} not found: build the binary first with \`npx tsc -p tsconfig.json\``);
  }
}

/** The parent's environment without any TRIDENT_* variable, plus `env`. */
function childEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('TRIDENT_')) base[name] = value;
  }
  return { ...base, ...env };
}

/**
 * Starts `trident serve` on 127.0.0.1 with ephemeral cleartext and TLS ports.
 * `args` are appended after the defaults, so they win (`--log-level debug`).
 * Callers should `t.teardown(() => bin.kill())`.
 */
export async function startBinary(
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  options: StartOptions = {},
): Promise<RunningBinary> {
  assertBuilt();
  const tlsMode = options.tls ?? 'flags';
  const certDir = tlsMode === 'none' ? '' : (options.certDir ?? (await makeCerts()));
  const caPem = tlsMode === 'none' ? '' : readFileSync(join(certDir, 'ca.crt'), 'utf8');
  const tlsArgs = {
    flags: ['--port', '0', '--cert', join(certDir, 'server.crt'), '--key', join(certDir, 'server.key')],
    'default-paths': ['--port', '0'],
    none: [],
  }[tlsMode];
  const fullArgs = [
    options.binary ?? BINARY,
    'serve',
    '--host', '127.0.0.1',
    '--http-port', '0',
    ...tlsArgs,
    '--log-level', 'info',
    ...args,
  ];
  const child = spawn(process.execPath, fullArgs, { cwd: options.cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const logs: LogLine[] = [];
  const otherStdout: string[] = [];
  let stderr = '';
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': by then stdout has been read to the end, so every
    // line the binary logged before exiting is in `logs`.
    child.once('close', (code, signal) => {
      running.delete(child);
      exitedFlag = true;
      resolve({ code, signal });
      events.emit('exit');
    });
  });
  child.once('error', (error) => {
    stderr += `spawn error: ${error.message}\n`;
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      otherStdout.push(line);
      return;
    }
    if (parsed === null || typeof parsed !== 'object') {
      otherStdout.push(line);
      return;
    }
    logs.push(parsed as LogLine);
    events.emit('log');
  });

  const waitForLog: RunningBinary['waitForLog'] = (predicate, { from = 0, timeoutMs = 5000, what } = {}) =>
    new Promise<LogLine>((resolve, reject) => {
      let checked = from;
      const scan = (): boolean => {
        for (; checked < logs.length; checked++) {
          if (predicate(logs[checked]!)) {
            finish();
            resolve(logs[checked]!);
            return true;
          }
        }
        return false;
      };
      const onExit = (): void => {
        if (scan()) return;
        finish();
        reject(new Error(`binary exited before logging ${what ?? 'the expected line'}; stderr: ${stderr}`));
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `timeout: no log line ${what ?? 'matching'} within ${timeoutMs} ms; last lines:\n` +
              logs.slice(-10).map((l) => JSON.stringify(l)).join('\n'),
          ),
        );
      }, timeoutMs);
      const onLog = (): void => void scan();
      function finish(): void {
        clearTimeout(timer);
        events.off('log', onLog);
        events.off('exit', onExit);
      }
      if (scan()) return;
      if (exitedFlag) return onExit();
      events.on('log', onLog);
      events.on('exit', onExit);
    });

  const kill = (): void => killByPid(child, 'SIGKILL');
  const stop: RunningBinary['stop'] = async (signal = 'SIGTERM', timeoutMs = 10_000) => {
    if (isRunning(child)) killByPid(child, signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        kill();
        reject(new Error(`timeout: binary did not exit within ${timeoutMs} ms of ${signal}; killed it`));
      }, timeoutMs);
    });
    try {
      const { code } = await Promise.race([exited, timeout]);
      return code;
    } finally {
      clearTimeout(timer);
    }
  };

  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  try {
    const listening = (tls: boolean) =>
      waitForLog((l) => l.msg === 'listening' && l.tls === tls && typeof l.port === 'number', {
        timeoutMs: startTimeoutMs,
        what: `"listening" with tls=${tls}`,
      });
    const [plain, secure] = await Promise.all([listening(false), tlsMode === 'none' ? null : listening(true)]);
    return {
      httpPort: plain.port as number,
      tlsPort: (secure?.port as number | undefined) ?? 0,
      caPem,
      certDir,
      process: child,
      pid: child.pid!,
      logs,
      otherStdout,
      stderr: () => stderr,
      exited,
      waitForLog,
      stop,
      kill,
      closeStdout: () => child.stdout!.destroy(),
    };
  } catch (error) {
    kill();
    throw error;
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the binary to completion (for --help, bad flags); SIGKILLed after `timeoutMs`.
 * `binary` and `cwd` as in StartOptions.
 */
export function runBinary(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 10_000,
  { binary = BINARY, cwd }: Pick<StartOptions, 'binary' | 'cwd'> = {},
): Promise<RunResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binary, ...args], { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      killByPid(child, 'SIGKILL');
      reject(new Error(`timeout: \`trident ${args.join(' ')}\` still running after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    // 'close' (not 'exit') so that stdout and stderr are complete.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * A copy of the built binary in a fresh package root (its `dist/` and
 * package.json copied, its `node_modules` linked), with no `certs/` yet: for tests of paths that hang
 * off the package root. Returns the root; the binary is `<root>/dist/cli/main.js`.
 */
export function copyPackage(): string {
  assertBuilt();
  const root = makeTempDir('trident-package-');
  cpSync(join(ROOT, 'dist'), join(root, 'dist'), { recursive: true });
  // "type": "module" makes dist/*.js ES modules.
  cpSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  return root;
}
