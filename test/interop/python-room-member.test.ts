// python3-websockets (Debian) as room members of trident's broker, with
// permessage-deflate and server_no_context_takeover (so it shares the one
// compressed frame with a trident client of the same setting) and without.
import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { DEBIAN_PYTHON, PEERS_DIR } from '../helpers/interop/peers.js';
import { startPeer } from '../helpers/interop/peer-process.js';
import { join } from 'node:path';

t.test('python-websockets members get every broadcast intact, compressed once for all no-context-takeover members', async (t) => {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: { threshold: 0 } });
  t.teardown(() => wss.close());
  const joined: WebSocket[] = [];
  let onJoin = (): void => {};
  wss.on('connection', (ws) => {
    wss.pubsub.join(ws, 'room');
    joined.push(ws);
    onJoin();
  });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0 });
  const url = `ws://127.0.0.1:${port}/`;
  const script = join(PEERS_DIR, 'python', 'room_member.py');
  const pyNct = startPeer(t, DEBIAN_PYTHON, [script, url, 'nct']);
  const pyOff = startPeer(t, DEBIAN_PYTHON, [script, url, 'off']);
  const messages: Array<string | Buffer> = ['hello', 'compressible text '.repeat(300), randomBytes(100_000), 'bye'];
  const ours = new WebSocket(url, { perMessageDeflate: { serverNoContextTakeover: true, threshold: 0 } });
  const [, nctExtensions] = await pyNct.waitForLine(/^OPEN (.*)$/);
  const [, offExtensions] = await pyOff.waitForLine(/^OPEN ?(.*)$/);
  t.match(nctExtensions, /^permessage-deflate; server_no_context_takeover/, 'python negotiated server_no_context_takeover');
  t.equal(offExtensions, '', 'and the other python member no compression');
  if (joined.length < 3) await new Promise<void>((resolve) => (onJoin = () => joined.length === 3 && resolve()));
  t.equal(wss.pubsub.memberCount('room'), 3);

  const oursReceived: Buffer[] = [];
  const oursDone = new Promise<void>((resolve) =>
    ours.on('message', (data: Buffer) => oursReceived.push(data) === messages.length && resolve()),
  );
  for (const message of messages) wss.pubsub.publish('room', message);
  await Promise.all([pyNct.waitForLine(/^DONE$/), pyOff.waitForLine(/^DONE$/), oursDone]);

  const expected = messages.slice(0, -1).map((m) => {
    const data = typeof m === 'string' ? Buffer.from(m) : m;
    return `MSG ${typeof m === 'string' ? 'text' : 'binary'} ${data.length} ${createHash('sha256').update(data).digest('hex')}`;
  });
  for (const peer of [pyNct, pyOff]) t.same(peer.lines.filter((line) => line.startsWith('MSG')), expected, 'python got every message intact, in order');
  t.equal(wss.pubsub.stats.sharedCompressions, messages.length, 'one compression per message for both deflate members');
  t.equal(wss.pubsub.stats.framings, 2 * messages.length, 'and one plain framing per message');
  t.same(oursReceived.map(String), messages.map(String), 'the trident member got them too');
  ours.close();
});
