import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/**
 * The binary's Prometheus endpoint: `GET /metrics` on a listener of its own,
 * apart from the WebSocket ports, so that it can stay on loopback (or an
 * internal address) while the service faces the world, and a scrape never
 * queues behind client traffic limits.
 */
export interface MetricsSource {
  readonly contentType: string;
  /** The exposition text: one registry's, or (under `--workers`) every worker's combined. */
  metrics(): Promise<string>;
}

export async function listenMetrics(registry: MetricsSource, host: string, port: number, logger: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return answer(res, 404, 'not found');
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'metrics collection failed');
        answer(res, 500, 'metrics collection failed');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error({ err: error }, 'metrics listener error'));
  const address = server.address() as AddressInfo;
  logger.info({ address: address.address, port: address.port, path: '/metrics' }, 'metrics listening');
  return server;
}

function answer(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `${text}\n`;
  res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
