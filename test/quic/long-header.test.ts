// Long-header parsing for packets of unknown connections (RFC 9000 §17.2),
// checked against quiche's own packets and its header parser.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { loadQuiche } from '../../src/quic/binding.js';
import { PacketType, parseLongHeader } from '../../src/quic/long-header.js';

const quiche = loadQuiche();

/** A client's first Initial (no token). */
function clientInitial(): Buffer {
  const config = quiche.Config.withBoringSslCtx(false, false, null, null, null, null);
  config.setApplicationProtos(['h3']);
  const connection = quiche.Connection.connect('localhost', randomBytes(16), { host: '127.0.0.1', port: 1 }, { host: '127.0.0.1', port: 2 }, config);
  const out = Buffer.alloc(1500);
  const [length] = connection.send(out)!;
  return out.subarray(0, length);
}

t.test('an Initial: the same fields as quiche reads', async (t) => {
  const datagram = clientInitial();
  const ours = parseLongHeader(datagram)!;
  const theirs = quiche.Header.fromSlice(Buffer.from(datagram), 16);
  t.equal(ours.type, PacketType.INITIAL);
  t.equal(theirs.ty, quiche.Type.Initial);
  t.equal(ours.version, theirs.version);
  t.same([...ours.dcid], [...theirs.dcid]);
  t.same([...ours.scid], [...theirs.scid]);
  t.equal(ours.token!.length, 0, 'no token');
});

t.test('a Retry token in an Initial, and a Retry packet', async (t) => {
  const token = Buffer.from('a token of 26 bytes, here.');
  const retry = Buffer.alloc(1500);
  const length = quiche.retry(randomBytes(8), randomBytes(8), randomBytes(16), token, 1, retry);
  const header = parseLongHeader(retry.subarray(0, length))!;
  t.equal(header.type, PacketType.RETRY);
  t.equal(header.token, null, 'only an Initial has a Token Length field');
  t.equal(header.scid.length, 16);
  // An Initial with a 2-byte Token Length (§16) and that token.
  const initial = Buffer.concat([Buffer.from([0xc0, 0, 0, 0, 1, 8]), Buffer.alloc(8, 1), Buffer.from([0]), Buffer.from([0x40, token.length]), token, Buffer.alloc(40)]);
  t.same(parseLongHeader(initial)!.token, token);
});

t.test('malformed headers are null', async (t) => {
  const good = clientInitial();
  t.equal(parseLongHeader(good.subarray(0, 6)), null, 'truncated before the DCID');
  t.equal(parseLongHeader(good.subarray(0, 10)), null, 'truncated inside the CIDs');
  const shortForm = Buffer.from(good);
  shortForm[0]! &= 0x7f;
  t.equal(parseLongHeader(shortForm), null, 'short header');
  const noFixedBit = Buffer.from(good);
  noFixedBit[0]! &= ~0x40;
  t.equal(parseLongHeader(noFixedBit), null, 'fixed bit 0');
  const longCid = Buffer.from(good);
  longCid[5] = 21;
  t.equal(parseLongHeader(longCid), null, 'a connection ID over 20 bytes');
  const hugeToken = Buffer.concat([Buffer.from([0xc0, 0, 0, 0, 1, 8]), Buffer.alloc(8), Buffer.from([0]), Buffer.from([0x80, 0, 0x10, 0]), Buffer.alloc(100)]);
  t.equal(parseLongHeader(hugeToken), null, 'a token longer than the datagram');
});
