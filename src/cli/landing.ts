import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { SESSIONS_PATH, WELCOME_PARAMETER } from './demo.js';

/**
 * `/`: says what this server speaks, lets a browser try the echo endpoint, and
 * is a live demo: a chat room whose WebSocket shows the HTTP version carrying
 * it (the server says so in its welcome, a browser cannot tell by itself) and
 * the open sessions per transport, polled from SESSIONS_PATH. GET or HEAD.
 */
export function landingPage(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void {
  const secure = req.httpVersionMajor === 2 ? (req as Http2ServerRequest).scheme === 'https' : Boolean((req.socket as TLSSocket).encrypted);
  const host = req.httpVersionMajor === 2 ? (req as Http2ServerRequest).authority : req.headers.host;
  const body = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>trident-ws</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 1rem auto; padding: 0 1rem; }
#log { border: 1px solid #999; height: 12rem; overflow-y: auto; padding: .25rem .5rem; margin: .5rem 0; white-space: pre-wrap; }
#sessions td, #sessions th { padding: .1rem .75rem; text-align: left; }
</style>
</head>
<body>
<h1>trident-ws</h1>
<p>You reached this page over <strong id="http-version">HTTP/${req.httpVersion}</strong>${secure ? ' with TLS' : ''}.</p>
<p>This server speaks WebSocket (RFC 6455, version 13) over HTTP/1.1 Upgrade and,
on its TLS port, over HTTP/2 extended CONNECT (RFC 8441) and HTTP/3 extended CONNECT
(RFC 9220, QUIC on the same port number over UDP), with permessage-deflate (RFC 7692).</p>
<ul>
  <li><code>${secure ? 'wss' : 'ws'}://${escapeHtml(host ?? 'host')}/echo</code>: every message comes back, text as text, binary as binary</li>
  <li><code>${secure ? 'wss' : 'ws'}://${escapeHtml(host ?? 'host')}/chat/&lt;room&gt;</code>: every message goes to everyone in the room
    (add <code>?${WELCOME_PARAMETER}</code> for a first JSON message naming the transport)</li>
</ul>
<p><button id="try">Try /echo</button> <output id="result"></output></p>

<h2>Live chat</h2>
<p><label>Room <input id="room" value="lobby" size="12"></label>
<label>Name <input id="name" value="guest" size="12"></label>
<button id="join">Join</button></p>
<p id="chat-status">Not connected.</p>
<div id="log" aria-live="polite"></div>
<form id="say"><input id="text" size="40" autocomplete="off" disabled> <button id="send" disabled>Send</button></form>

<h2>Open sessions</h2>
<table id="sessions">
<tr><th>HTTP/1.1</th><th>HTTP/2</th><th>HTTP/3</th></tr>
<tr><td id="count-http1">?</td><td id="count-h2">?</td><td id="count-h3">?</td></tr>
</table>
<script>
const $ = (id) => document.getElementById(id);
const wsBase = location.origin.replace(/^http/, 'ws');
const HTTP_VERSIONS = { 'http/1.1': 'HTTP/1.1', h2: 'HTTP/2', h3: 'HTTP/3' };

$('try').onclick = () => {
  const ws = new WebSocket(wsBase + '/echo');
  ws.onopen = () => ws.send('hello from ' + navigator.userAgent.split(' ').pop());
  ws.onmessage = (event) => { $('result').textContent = 'echo: ' + event.data; ws.close(1000, 'done'); };
  ws.onerror = () => { $('result').textContent = 'WebSocket error'; };
};

function showCounts(counts) {
  $('count-http1').textContent = counts['http/1.1'];
  $('count-h2').textContent = counts.h2;
  $('count-h3').textContent = counts.h3;
}
async function pollCounts() {
  try {
    const response = await fetch('${SESSIONS_PATH}', { cache: 'no-store' });
    if (response.ok) showCounts(await response.json());
  } catch {}
}
pollCounts();
setInterval(pollCounts, 1000);

function append(line) {
  const entry = document.createElement('div');
  entry.textContent = line;
  $('log').append(entry);
  $('log').scrollTop = $('log').scrollHeight;
}

let chat = null;
$('join').onclick = () => {
  if (chat) chat.close(1000, 'leaving');
  const room = $('room').value;
  const ws = new WebSocket(wsBase + '/chat/' + encodeURIComponent(room) + '?${WELCOME_PARAMETER}');
  chat = ws;
  let welcomed = false;
  $('chat-status').textContent = 'Connecting to ' + room + '…';
  ws.onmessage = (event) => {
    if (!welcomed) {
      // The server's first message on ?${WELCOME_PARAMETER}: which transport carries this socket.
      welcomed = true;
      const welcome = JSON.parse(event.data);
      $('chat-status').innerHTML = 'In room <strong id="chat-room"></strong> over <strong id="ws-transport"></strong>.';
      $('chat-room').textContent = room;
      $('ws-transport').textContent = HTTP_VERSIONS[welcome.transport] ?? welcome.transport;
      showCounts(welcome.sessions);
      $('text').disabled = $('send').disabled = false;
      return;
    }
    append(typeof event.data === 'string' ? event.data : '[binary message]');
  };
  ws.onclose = (event) => {
    if (chat !== ws) return;
    chat = null;
    $('text').disabled = $('send').disabled = true;
    $('chat-status').textContent = 'Disconnected (' + event.code + ').';
  };
};
$('say').onsubmit = (event) => {
  event.preventDefault();
  if (!chat || $('text').value === '') return;
  chat.send($('name').value + ': ' + $('text').value);
  $('text').value = '';
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
