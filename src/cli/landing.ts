import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { TLSSocket } from 'node:tls';

/** `/`: says what this server speaks and lets a browser try the echo endpoint (GET or HEAD). */
export function landingPage(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void {
  const secure = req.httpVersionMajor === 2 ? (req as Http2ServerRequest).scheme === 'https' : Boolean((req.socket as TLSSocket).encrypted);
  const host = req.httpVersionMajor === 2 ? (req as Http2ServerRequest).authority : req.headers.host;
  const body = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>trident-ws</title></head>
<body>
<h1>trident-ws</h1>
<p>You reached this page over <strong id="http-version">HTTP/${req.httpVersion}</strong>${secure ? ' with TLS' : ''}.</p>
<p>This server speaks WebSocket (RFC 6455, version 13) over HTTP/1.1 Upgrade and,
on its TLS port, over HTTP/2 extended CONNECT (RFC 8441) and HTTP/3 extended CONNECT
(RFC 9220, QUIC on the same port number over UDP), with permessage-deflate (RFC 7692).</p>
<ul>
  <li><code>${secure ? 'wss' : 'ws'}://${escapeHtml(host ?? 'host')}/echo</code>: every message comes back, text as text, binary as binary</li>
  <li><code>${secure ? 'wss' : 'ws'}://${escapeHtml(host ?? 'host')}/chat/&lt;room&gt;</code>: every message goes to everyone in the room</li>
</ul>
<p><button id="try">Try /echo</button> <output id="result"></output></p>
<script>
document.getElementById('try').onclick = () => {
  const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/echo');
  ws.onopen = () => ws.send('hello from ' + navigator.userAgent.split(' ').pop());
  ws.onmessage = (event) => { document.getElementById('result').textContent = 'echo: ' + event.data; ws.close(1000, 'done'); };
  ws.onerror = () => { document.getElementById('result').textContent = 'WebSocket error'; };
};
</script>
</body>
</html>
`;
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  if (req.method === 'HEAD') res.end();
  else res.end(body);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
