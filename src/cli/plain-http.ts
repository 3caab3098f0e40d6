import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { SESSIONS_PATH, type SessionCounts } from './demo.js';
import { landingPage } from './landing.js';

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

/**
 * The binary's answers to plain (non-WebSocket) requests on every listener:
 * `/` the landing page; `/healthz` 200 while the process runs (liveness);
 * `/readyz` 200 while serving and 503 once shutdown started (readiness, so a
 * load balancer stops sending new clients during the drain); `/sessions`
 * the open sessions per transport as JSON (for the landing page); else 404.
 */
export function plainHttp(isReady: () => boolean, sessions: () => SessionCounts): (req: Request, res: Response) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/' && path !== '/healthz' && path !== '/readyz' && path !== SESSIONS_PATH) return sendText(req, res, 404, 'not found');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendText(req, res, 405, 'method not allowed', { allow: 'GET, HEAD' });
    }
    if (path === '/healthz') return sendText(req, res, 200, 'ok');
    if (path === '/readyz') return isReady() ? sendText(req, res, 200, 'ready') : sendText(req, res, 503, 'shutting down');
    if (path === SESSIONS_PATH) return sendText(req, res, 200, JSON.stringify(sessions()), {}, 'application/json');
    landingPage(req, res);
  };
}

function sendText(
  req: Request,
  res: Response,
  status: number,
  text: string,
  headers: Record<string, string> = {},
  type = 'text/plain; charset=utf-8',
): void {
  const body = `${text}\n`;
  res.writeHead(status, {
    ...headers,
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    // Probes must see the state of now, never a cached answer.
    'cache-control': 'no-store',
  });
  if (req.method === 'HEAD') res.end();
  else res.end(body);
}
