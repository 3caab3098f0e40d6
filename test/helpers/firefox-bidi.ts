/**
 * Drives Debian's Firefox (`firefox-esr`) through its built-in WebDriver BiDi
 * server, for interop tests with a real browser. Playwright's Firefox launcher
 * does not work with Debian's build and Debian has no geckodriver
 * (/work/shared/notes/browsers.md), so this speaks BiDi itself over a `ws`
 * WebSocket:
 *
 *   firefox-esr --headless --no-remote --profile <fresh dir> --remote-debugging-port=0 about:blank
 *
 * prints `WebDriver BiDi listening on ws://127.0.0.1:PORT` on stderr; the
 * client connects to `ws://127.0.0.1:PORT/session` and sends `session.new`.
 *
 * Every profile is fresh, with a `user.js` that keeps Firefox off the network
 * (updates, telemetry, Safe Browsing, remote settings, captive portal,
 * DNS-over-HTTPS, prefetching, ...): the test machines have no internet and
 * Firefox must not wait for it. Every Firefox is ended by its PID: SIGTERM
 * then SIGKILL in `close()`, SIGKILL in `kill()`, and SIGKILL when the test
 * process exits or is killed by a catchable signal (tap's timeout sends
 * SIGALRM). Profile directories are removed afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

/** Debian's Firefox; CI installs it with `apt-get install -y firefox-esr`. */
export const FIREFOX = '/usr/bin/firefox-esr';

export type PrefValue = boolean | number | string;

/**
 * Preferences written to every profile's user.js. Firefox's remote agent
 * applies similar "recommended" preferences, but only once it is running;
 * user.js is read before any service starts.
 */
export const OFFLINE_PREFS: Readonly<Record<string, PrefValue>> = {
  // First run, default-browser and session-restore pages.
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.startup.page': 0,
  'browser.startup.homepage': 'about:blank',
  'startup.homepage_welcome_url': 'about:blank',
  'startup.homepage_welcome_url.additional': '',
  'browser.sessionstore.resume_from_crash': false,
  'toolkit.startup.max_resumed_crashes': -1,
  'browser.aboutwelcome.enabled': false,
  'browser.newtabpage.enabled': false,
  'browser.newtabpage.activity-stream.feeds.system.topstories': false,
  'browser.newtabpage.activity-stream.feeds.section.topstories': false,
  'browser.newtabpage.activity-stream.feeds.snippets': false,
  'browser.newtabpage.activity-stream.showSponsored': false,
  'browser.newtabpage.activity-stream.showSponsoredTopSites': false,
  'browser.newtabpage.activity-stream.telemetry': false,
  'browser.newtabpage.activity-stream.asrouter.userprefs.cfr.addons': false,
  'browser.newtabpage.activity-stream.asrouter.userprefs.cfr.features': false,
  'browser.topsites.contile.enabled': false,
  'termsofuse.bypassNotification': true,
  // Updates: application, add-ons, system add-ons, search engines, GMP plugins.
  'app.update.disabledForTesting': true,
  'app.update.auto': false,
  'app.update.checkInstallTime': false,
  'extensions.update.enabled': false,
  'extensions.update.autoUpdateDefault': false,
  'extensions.systemAddon.update.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'extensions.getAddons.discovery.api_url': 'data:, ',
  'extensions.blocklist.enabled': false,
  'extensions.installDistroAddons': false,
  'extensions.pocket.enabled': false,
  'browser.search.update': false,
  'browser.search.geoip.url': '',
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'media.gmp-manager.url': '',
  'media.gmp-manager.updateEnabled': false,
  'media.gmp-gmpopenh264.enabled': false,
  'media.gmp-widevinecdm.enabled': false,
  'general.useragent.updates.enabled': false,
  // Telemetry, data reporting, studies, crash reports, pings.
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.archive.enabled': false,
  'toolkit.telemetry.server': '',
  'toolkit.telemetry.shutdownPingSender.enabled': false,
  'toolkit.telemetry.firstShutdownPing.enabled': false,
  'toolkit.telemetry.newProfilePing.enabled': false,
  'toolkit.telemetry.updatePing.enabled': false,
  'toolkit.telemetry.bhrPing.enabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.policy.dataSubmissionPolicyBypassNotification': true,
  'datareporting.usage.uploadEnabled': false,
  'telemetry.fog.test.localhost_port': -1,
  'app.normandy.enabled': false,
  'app.normandy.api_url': '',
  'app.shield.optoutstudies.enabled': false,
  'messaging-system.rsexperimentloader.enabled': false,
  'nimbus.rollouts.enabled': false,
  'browser.ping-centre.telemetry': false,
  'browser.crashReports.unsubmittedCheck.autoSubmit2': false,
  'browser.tabs.crashReporting.sendReport': false,
  'browser.discovery.enabled': false,
  // Safe Browsing and tracking-protection list downloads.
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.safebrowsing.blockedURIs.enabled': false,
  'browser.safebrowsing.passwords.enabled': false,
  'browser.safebrowsing.provider.google.updateURL': '',
  'browser.safebrowsing.provider.google.gethashURL': '',
  'browser.safebrowsing.provider.google4.updateURL': '',
  'browser.safebrowsing.provider.google4.gethashURL': '',
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'browser.safebrowsing.provider.mozilla.gethashURL': '',
  'privacy.trackingprotection.enabled': false,
  'privacy.trackingprotection.pbmode.enabled': false,
  // Remote settings (and what is fed from it: CRLite, intermediates, blocklists).
  'services.settings.server': 'data:,#remote-settings-dummy/v1',
  'services.settings.loglevel': 'off',
  'security.remote_settings.crlite_filters.enabled': false,
  'security.remote_settings.intermediates.enabled': false,
  'security.certerrors.mitm.priming.enabled': false,
  'security.OCSP.enabled': 0,
  'security.OCSP.require': false,
  // Captive portal and connectivity checks, network time.
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.manage-offline-status': false,
  'network.sntp.pools': '',
  // DNS-over-HTTPS off (mode 5: off by choice), no proxy (no WPAD, no env proxy).
  'network.trr.mode': 5,
  'network.trr.uri': '',
  'network.proxy.type': 0,
  // Speculative connections, prefetching, prediction.
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'network.predictor.enabled': false,
  'network.http.speculative-parallel-limit': 0,
  'browser.urlbar.speculativeConnect.enabled': false,
  'browser.places.speculativeConnect.enabled': false,
  // Push, accounts, sync, location, translations, ML, backups, form autofill.
  'dom.push.connection.enabled': false,
  'dom.push.serverURL': '',
  'identity.fxaccounts.enabled': false,
  'services.sync.engine.addons': false,
  'geo.provider.network.url': '',
  'geo.enabled': false,
  'browser.translations.enable': false,
  'browser.ml.enable': false,
  'browser.ml.chat.enabled': false,
  'browser.backup.enabled': false,
  'browser.urlbar.suggest.searches': false,
  'browser.urlbar.quicksuggest.enabled': false,
  'browser.urlbar.merino.endpointURL': '',
  'signon.rememberSignons': false,
  'signon.management.page.breach-alerts.enabled': false,
  'extensions.formautofill.addresses.enabled': false,
  'extensions.formautofill.creditCards.enabled': false,
  'places.semanticHistory.featureGate': false,
  // Quiet, deterministic windows.
  'browser.tabs.warnOnClose': false,
  'browser.warnOnQuit': false,
  'browser.pagethumbnails.capturing_disabled': true,
  'dom.ipc.reportProcessHangs': false,
};

function userJs(prefs: Record<string, PrefValue>): string {
  return (
    Object.entries(prefs)
      .map(([name, value]) => `user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});`)
      .join('\n') + '\n'
  );
}

// ---- process bookkeeping ----------------------------------------------------

const running = new Set<ChildProcess>();
const profiles = new Set<string>();

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function signalPid(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || !isRunning(child)) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // already gone
  }
}

function removeProfile(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  profiles.delete(dir);
}

function killAllNow(): void {
  for (const child of running) signalPid(child, 'SIGKILL');
  for (const dir of profiles) {
    try {
      removeProfile(dir);
    } catch {
      // best effort at exit
    }
  }
}

process.once('exit', killAllNow);

// A signal's default action skips 'exit' handlers. Kill the browsers, then let
// the signal do what it would have done without this listener: the listener
// removes itself and re-raises, so either the default action or tap's own
// signal handling (signal-exit counts listeners) takes over.
for (const signal of ['SIGALRM', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  const onSignal = (): void => {
    killAllNow();
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  };
  process.on(signal, onSignal);
}

// ---- timeouts -----------------------------------------------------------------

/** Rejects with `timeout after N ms: what` unless `promise` settles first. */
export function withTimeout<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

// ---- the BiDi client ----------------------------------------------------------

export interface BiDiEvent {
  method: string;
  params: Record<string, unknown>;
}

/** Raised for a BiDi `error` response: `error` is the WebDriver error code. */
export class BiDiError extends Error {
  constructor(
    readonly command: string,
    readonly error: string,
    message: string,
  ) {
    super(`${command}: ${error}: ${message}`);
    this.name = 'BiDiError';
  }
}

/** A minimal WebDriver BiDi client: commands with ids and per-command timeouts, and events. */
export class BiDiClient {
  private nextId = 1;
  private readonly pending = new Map<number, { method: string; resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  private readonly listeners = new Set<(event: BiDiEvent) => void>();
  private closedError: Error | null = null;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => this.onMessage(String(data)));
    socket.on('close', (code, reason) => this.failAll(new Error(`BiDi connection closed (${code} ${String(reason)})`)));
    socket.on('error', (error) => this.failAll(new Error(`BiDi connection error: ${error.message}`)));
  }

  /** Opens the BiDi WebSocket (`ws://127.0.0.1:PORT/session`). */
  static async connect(url: string, timeoutMs: number): Promise<BiDiClient> {
    const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      }),
      `connecting to ${url}`,
      timeoutMs,
    ).catch((error: unknown) => {
      socket.terminate();
      throw error;
    });
    return new BiDiClient(socket);
  }

  /** Sends one command; resolves with its `result`, rejects on an error response or after `timeoutMs`. */
  send<R = Record<string, unknown>>(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<R> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const reply = new Promise<R>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (result: unknown) => void, reject });
    });
    this.socket.send(JSON.stringify({ id, method, params }));
    return withTimeout(reply, `BiDi ${method}`, timeoutMs).finally(() => this.pending.delete(id));
  }

  /** Calls `listener` for every event until the returned function is called. */
  onEvent(listener: (event: BiDiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.failAll(new Error('BiDi client closed'));
    this.socket.terminate();
  }

  private onMessage(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (message.type === 'event') {
      const event = { method: String(message.method), params: (message.params ?? {}) as Record<string, unknown> };
      for (const listener of this.listeners) listener(event);
      return;
    }
    const id = message.id;
    if (typeof id !== 'number') return; // error without id: malformed command; the command's timeout reports it
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    if (message.type === 'success') entry.resolve(message.result);
    else entry.reject(new BiDiError(entry.method, String(message.error), String(message.message ?? '')));
  }

  private failAll(error: Error): void {
    this.closedError ??= error;
    for (const entry of this.pending.values()) entry.reject(error);
    this.pending.clear();
  }
}

// ---- Firefox ------------------------------------------------------------------

export interface LaunchOptions {
  /** Extra preferences for this profile's user.js (they override OFFLINE_PREFS). */
  prefs?: Record<string, PrefValue>;
  /** Until BiDi is listening and the session is created; default 30 s. */
  startTimeoutMs?: number;
  /** Default timeout of each BiDi command; default 10 s. */
  commandTimeoutMs?: number;
}

export interface ConsoleEntry {
  level: string;
  text: string;
  url?: string;
}

export interface Firefox {
  pid: number;
  profileDir: string;
  /** `ws://127.0.0.1:PORT` as printed by Firefox. */
  bidiUrl: string;
  bidi: BiDiClient;
  /** The capabilities `session.new` returned (browserName, browserVersion, acceptInsecureCerts, ...). */
  capabilities: Record<string, unknown>;
  /** Console messages and JavaScript errors from every page (BiDi `log.entryAdded`). */
  console: ConsoleEntry[];
  /** Everything Firefox wrote to stdout and stderr. */
  output(): string;
  /** The id of the first top-level browsing context (the tab). */
  topLevelContext(): Promise<string>;
  /** `browsingContext.navigate` with `wait: 'complete'`; resolves with the final URL. */
  navigate(context: string, url: string, timeoutMs?: number): Promise<string>;
  /**
   * Runs `fn(arg)` in the page (`script.evaluate`, `awaitPromise: true`) and
   * resolves with its result. `fn` must be self-contained: it is sent as
   * source text. `arg` and the result travel as JSON.
   */
  evaluate<A, R>(context: string, fn: (arg: A) => R | Promise<R>, arg: A, timeoutMs?: number): Promise<R>;
  /** Ends Firefox by PID (SIGTERM, then SIGKILL after `timeoutMs`) and removes the profile. Never throws. */
  close(timeoutMs?: number): Promise<void>;
  /** SIGKILL by PID and remove the profile, synchronously. Never throws. */
  kill(): void;
}

/** Starts a headless Firefox with a fresh profile and opens a BiDi session that accepts any certificate. */
export async function launchFirefox(options: LaunchOptions = {}): Promise<Firefox> {
  if (!existsSync(FIREFOX)) {
    throw new Error(`${FIREFOX} not found: install Debian's Firefox (apt-get install -y firefox-esr)`);
  }
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const commandTimeoutMs = options.commandTimeoutMs ?? 10_000;
  const profileDir = mkdtempSync(join(tmpdir(), 'trident-firefox-'));
  profiles.add(profileDir);
  writeFileSync(join(profileDir, 'user.js'), userJs({ ...OFFLINE_PREFS, ...options.prefs }));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Mozilla's own test harnesses set this: Firefox then resolves no
    // non-local name, aborts on any connection to a non-local address
    // ("FATAL ERROR: Non-local network connections are disabled", so a
    // forgotten background service fails loudly instead of hanging), and
    // honours services.settings.server, which release builds otherwise ignore
    // (without it, remote settings still resolves firefox.settings.services.mozilla.com).
    MOZ_DISABLE_NONLOCAL_CONNECTIONS: '1',
    MOZ_CRASHREPORTER_DISABLE: '1',
    MOZ_CRASHREPORTER_SHUTDOWN: '1',
    // Caches and anything else Firefox might put under $HOME stay in the profile.
    HOME: profileDir,
    XDG_CACHE_HOME: join(profileDir, '.cache'),
    XDG_CONFIG_HOME: join(profileDir, '.config'),
  };
  for (const name of ['http_proxy', 'https_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY']) delete env[name];

  const child = spawn(
    FIREFOX,
    ['--headless', '--no-remote', '--profile', profileDir, '--remote-debugging-port=0', 'about:blank'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  let output = '';
  let spawnError: Error | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => {
      running.delete(child);
      resolve();
    });
  });
  child.once('error', (error) => {
    spawnError = error;
  });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8');
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      output += line + '\n';
      const match = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    void exited.then(() => reject(new Error(`Firefox exited before BiDi was listening${spawnError ? ` (${spawnError.message})` : ''}:\n${output}`)));
  });

  const kill = (): void => {
    signalPid(child, 'SIGKILL');
    try {
      removeProfile(profileDir);
    } catch {
      // a content process may still be writing; the exit handler tries again
    }
  };

  try {
    const started = Date.now();
    const bidiUrl = await withTimeout(listening, `Firefox printing "WebDriver BiDi listening on"; output so far:\n${output}`, startTimeoutMs);
    const remaining = (): number => Math.max(1000, startTimeoutMs - (Date.now() - started));
    const bidi = await BiDiClient.connect(`${bidiUrl}/session`, remaining());
    const { capabilities } = await bidi.send<{ sessionId: string; capabilities: Record<string, unknown> }>(
      'session.new',
      { capabilities: { alwaysMatch: { acceptInsecureCerts: true } } },
      remaining(),
    );
    const consoleEntries: ConsoleEntry[] = [];
    bidi.onEvent((event) => {
      if (event.method !== 'log.entryAdded') return;
      const p = event.params as { level?: string; text?: string; source?: unknown; stackTrace?: { callFrames?: Array<{ url?: string }> } };
      consoleEntries.push({ level: String(p.level), text: String(p.text), url: p.stackTrace?.callFrames?.[0]?.url });
    });
    await bidi.send('session.subscribe', { events: ['log.entryAdded'] }, remaining());

    const firefox: Firefox = {
      pid: child.pid!,
      profileDir,
      bidiUrl,
      bidi,
      capabilities,
      console: consoleEntries,
      output: () => output,
      async topLevelContext() {
        const { contexts } = await bidi.send<{ contexts: Array<{ context: string; url: string }> }>(
          'browsingContext.getTree',
          { maxDepth: 0 },
          commandTimeoutMs,
        );
        const first = contexts[0];
        if (!first) throw new Error('browsingContext.getTree: Firefox has no top-level browsing context');
        return first.context;
      },
      async navigate(context, url, timeoutMs = commandTimeoutMs) {
        const result = await bidi.send<{ url: string }>('browsingContext.navigate', { context, url, wait: 'complete' }, timeoutMs);
        return result.url;
      },
      async evaluate<A, R>(context: string, fn: (arg: A) => R | Promise<R>, arg: A, timeoutMs = commandTimeoutMs): Promise<R> {
        const expression = `(async () => JSON.stringify(await (${fn.toString()})(${JSON.stringify(arg)})))()`;
        const result = await bidi.send<{
          type: 'success' | 'exception';
          result?: { type: string; value?: unknown };
          exceptionDetails?: { text?: string; stackTrace?: unknown };
        }>('script.evaluate', { expression, target: { context }, awaitPromise: true }, timeoutMs);
        if (result.type === 'exception') {
          throw new Error(`in page: ${result.exceptionDetails?.text ?? 'exception'}\n${JSON.stringify(result.exceptionDetails?.stackTrace ?? null)}`);
        }
        if (result.result?.type !== 'string') throw new Error(`in page: result is not JSON text but ${JSON.stringify(result.result)}`);
        return JSON.parse(result.result.value as string) as R;
      },
      async close(timeoutMs = 10_000) {
        bidi.close();
        signalPid(child, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const gone = await Promise.race([
          exited.then(() => true),
          new Promise<false>((resolve) => {
            timer = setTimeout(() => resolve(false), timeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (!gone) {
          signalPid(child, 'SIGKILL');
          await withTimeout(exited, `Firefox (pid ${child.pid}) exiting after SIGKILL`, 5000).catch(() => {});
        }
        kill();
      },
      kill,
    };
    return firefox;
  } catch (error) {
    kill();
    throw error;
  }
}
