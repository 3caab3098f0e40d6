// The transport limit: a fake 101 answer, then `socket.pipe(socket)`. It does
// no WebSocket work at all (frames come back masked, as sent): what the
// loopback TCP path and the load generator can do.
import net from 'node:net';
import { HOST, serveControl } from './common.mjs';

const RESPONSE = Buffer.from(
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
);
const END_OF_HEAD = Buffer.from('\r\n\r\n');
let open = 0;
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => {});
  let head = Buffer.alloc(0);
  const onHead = (chunk) => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const end = head.indexOf(END_OF_HEAD);
    if (end === -1) {
      if (head.length > 16384) socket.destroy();
      return;
    }
    socket.off('data', onHead);
    socket.pause();
    socket.write(RESPONSE);
    open++;
    socket.once('close', () => open--);
    const rest = head.subarray(end + 4);
    if (rest.length > 0) socket.unshift(rest);
    socket.pipe(socket);
  };
  socket.on('data', onHead);
});
server.listen(0, HOST, () => serveControl({ port: server.address().port, connections: () => open, info: { impl: 'raw TCP echo' } }));
