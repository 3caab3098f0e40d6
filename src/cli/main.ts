#!/usr/bin/env node
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { WebSocketServer } from '../server/websocket-server.js';
import { DEFAULT_SESSION_LIMITS } from '../session/options.js';
import { quicAvailable } from '../quic/index.js';
import { MissingCertificateError, parseServeArgs, usage, type ServeConfig } from './config.js';
import { chatPubSub } from './chat-pubsub.js';
import { sessionCounts, welcome } from './demo.js';
import { ChatRooms, isEndpoint, serveEcho } from './endpoints.js';
import { LogDestination } from './log-destination.js';
import { listenMetrics } from './metrics-endpoint.js';
import { plainHttp } from './plain-http.js';
import { RedisUnavailableError } from '../pubsub/redis-unavailable.js';
import { runPrimary, udpReusePortSupported, WORKER_READY, workerId } from './workers.js';

/**
 * Time a shutdown may take beyond the close timeout (HTTP/2 GOAWAY, HTTP/3
 * CONNECTION_CLOSE after its grace, listeners closing) before the process
 * exits anyway: an orchestrator must be able to count on the process ending.
 */
const SHUTDOWN_MARGIN_MS = 2000;
/** How long the last log lines may wait for a slow stdout reader before exit. */
const LOG_SETTLE_MS = 500;

async function serve(config: ServeConfig): Promise<void> {
  const destination = new LogDestination();
  const worker = workerId();
  const logger = pino({ level: config.logLevel, base: { service: 'trident', ...(worker === null ? {} : { worker }) } }, destination);
  const exit = (code: number): void => {
    void destination.settle(LOG_SETTLE_MS).then(() => process.exit(code));
  };
  let ready = true;
  // `wss` is read at request time only, once it exists.
  const onRequest = plainHttp(() => ready, () => sessionCounts(wss.clients));
  const wss = new WebSocketServer({
    noServer: true,
    logger,
    shouldHandle: (request) => isEndpoint(request.pathname),
    perMessageDeflate: config.deflate,
    allowedOrigins: config.allowedOrigins,
    maxMessageSize: config.maxMessageSize,
    maxFramesPerMessage: config.maxFramesPerMessage,
    maxBufferedAmount: config.maxBufferedAmount,
    closeTimeout: config.closeTimeout,
    heartbeatInterval: config.heartbeatInterval,
    handshakeTimeout: config.handshakeTimeout,
    maxHeaderSize: config.maxHeaderSize,
    pubsub: await chatPubSub(config, logger),
    metrics: config.metricsPort !== null,
  });
  const rooms = new ChatRooms(wss.pubsub);
  wss.on('connection', (ws, request) => {
    logger.debug({ transport: request.transport, path: request.pathname }, 'websocket connected');
    if (request.pathname === '/echo') serveEcho(ws);
    else {
      welcome(ws, request, wss.clients);
      rooms.join(ws, request);
    }
  });
  wss.on('error', (error) => logger.error({ err: error }, 'server error'));
  // Before listening: a required backend that cannot be reached stops the start.
  try {
    await wss.pubsub.start();
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    process.stderr.write(`trident: ${error.message}\n  Start Redis there, or pass --redis-optional to serve locally while retrying.\n`);
    exit(1);
    return;
  }

  if (config.httpPort !== null) {
    await wss.listen({ host: config.host, port: config.httpPort, onRequest });
  }
  if (config.h2cPort !== null) {
    await wss.listen({ host: config.host, port: config.h2cPort, h2c: true, onRequest });
  }
  if (config.port !== null) {
    const tls = { cert: readFileSync(config.cert), key: readFileSync(config.key) };
    let http3: boolean | { reusePort: true } = config.http3;
    if (http3 && !quicAvailable()) {
      logger.warn('HTTP/3 unavailable on this platform (no prebuilt QUIC module): serving HTTP/1.1 and HTTP/2 only');
      http3 = false;
    } else if (http3 && worker !== null) {
      // See udpReusePortSupported: per-worker UDP sockets, or worker 1 alone on Node 20.
      if (udpReusePortSupported()) http3 = { reusePort: true };
      else if (worker !== 1) http3 = false;
    }
    await wss.listen({ host: config.host, port: config.port, tls, http3, onRequest });
  } else if (config.noCertificate) {
    logger.warn({ cert: config.cert, key: config.key }, 'no certificate found (run `npm run certs`): serving ws:// only');
  }
  if (cluster.isWorker) process.send?.(WORKER_READY);

  // Under --workers the primary serves /metrics for all workers (./workers.ts): a
  // worker only hands its registry to prom-client's cluster aggregation.
  if (config.metricsPort !== null && cluster.isWorker) {
    const { AggregatorRegistry } = await import('prom-client');
    new AggregatorRegistry(); // in a worker, this installs the answer to the primary's requests
    AggregatorRegistry.setRegistries([wss.metrics!]);
  }
  const metricsServer =
    config.metricsPort === null || cluster.isWorker ? null : await listenMetrics(wss.metrics!, config.host, config.metricsPort, logger);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    ready = false;
    logger.info({ signal, sessions: wss.clients.size }, 'shutting down');
    const deadlineMs = (config.closeTimeout ?? DEFAULT_SESSION_LIMITS.closeTimeout) + SHUTDOWN_MARGIN_MS;
    setTimeout(() => {
      logger.error({ ms: deadlineMs }, 'shutdown did not finish in time: exiting');
      exit(1);
    }, deadlineMs);
    wss.close().then(
      () => {
        // Scrapes are answered during the drain; the process ends right after.
        metricsServer?.close();
        exit(0);
      },
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function main(): Promise<void> {
  if (process.argv[2] === 'test') {
    // The conformance runner is loaded only for `trident test`, keeping the server's start-up lean.
    const { runTestCommand } = await import('./test-command.js');
    const code = await runTestCommand(process.argv.slice(3));
    // Exit explicitly: a server that never closes its side must not keep us alive.
    process.stdout.write('', () => process.exit(code));
    return;
  }
  let config: ServeConfig | 'help';
  try {
    config = parseServeArgs(process.argv.slice(2), process.env);
  } catch (error) {
    // A missing certificate is no usage mistake: the message says what to do instead.
    const help = error instanceof MissingCertificateError ? '' : `\n${usage()}\n`;
    process.stderr.write(`trident: ${(error as Error).message}\n${help}`);
    process.exit(2);
  }
  if (config === 'help') {
    process.stdout.write(usage() + '\n');
    return;
  }
  if (config.workers > 1 && cluster.isPrimary) {
    const logger = pino({ level: config.logLevel, base: { service: 'trident', role: 'primary' } });
    if (config.metricsPort !== null) {
      // One scrape answers for every worker: prom-client asks each over IPC and sums.
      const aggregator = new (await import('prom-client')).AggregatorRegistry();
      await listenMetrics({ contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() }, config.host, config.metricsPort, logger);
    }
    runPrimary({
      workers: config.workers,
      logger,
      relayRooms: config.redis === null,
      shutdownMs: (config.closeTimeout ?? DEFAULT_SESSION_LIMITS.closeTimeout) + 2 * SHUTDOWN_MARGIN_MS,
      exit: (code) => process.exit(code),
    });
    return;
  }
  await serve(config);
}

main().catch((error: unknown) => {
  process.stderr.write(`trident: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
