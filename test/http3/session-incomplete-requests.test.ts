// Request streams whose header section never completes: rejected after
// requestHeadersTimeout, and at most maxIncompleteRequests of them held per
// connection (RFC 9114 §4.1.1: a request the server did not process is
// "rejected", H3_REQUEST_REJECTED on both directions).
import t, { type Test } from 'tap';
import { H3_REQUEST_REJECTED, type Http3Error } from '../../src/http3/errors.js';
import { encodeHeadersFrame } from '../../src/http3/frames.js';
import { encodeFieldSection } from '../../src/http3/qpack/encoder.js';
import type { Http3RequestStream } from '../../src/http3/request-stream.js';
import type { Http3Session } from '../../src/http3/session.js';
import { GET, rawClient, settle } from './helpers.js';
import type { MemoryQuicConnection, MemoryQuicStream } from './memory-quic.js';

const HEADERS = encodeHeadersFrame(encodeFieldSection(GET));

/** A request stream with the first `sent` bytes of a HEADERS frame, and no more. */
function partialRequest(c: MemoryQuicConnection, sent = 10): MemoryQuicStream {
  const stream = c.openStream(true);
  stream.write(HEADERS.subarray(0, sent));
  return stream;
}

/** The request streams the server rejected, in order, as they are reported. */
function rejections(server: Http3Session): Array<Http3RequestStream | null> {
  const seen: Array<Http3RequestStream | null> = [];
  server.on('streamError', (error: Http3Error, stream: Http3RequestStream | null) => {
    if (error.code === H3_REQUEST_REJECTED) seen.push(stream);
  });
  return seen;
}

/** The session's timers do not keep a process alive (in a server, the UDP socket does); this test's must. */
function keepAlive(t: Test): void {
  const timer = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(timer));
}

t.test('a header section not complete within requestHeadersTimeout: H3_REQUEST_REJECTED both ways', async (t) => {
  keepAlive(t);
  const { c, server } = rawClient({ requestHeadersTimeout: 40 });
  const requests: Http3RequestStream[] = [];
  server.on('request', (stream: Http3RequestStream) => requests.push(stream));
  const complete = c.openStream(true);
  complete.write(HEADERS); // a request that stays open past the timeout
  const slow = partialRequest(c);
  const rejected = new Promise<Http3Error>((resolve) => server.once('streamError', resolve));
  const error = await rejected;
  t.equal(error.code, H3_REQUEST_REJECTED);
  t.match(error.message, /header section not complete/);
  await settle();
  t.same(slow.receivedResets, [H3_REQUEST_REJECTED], 'RESET_STREAM H3_REQUEST_REJECTED');
  t.same(slow.receivedStopSending, [H3_REQUEST_REJECTED], 'STOP_SENDING H3_REQUEST_REJECTED');
  t.equal(requests.length, 1, 'the complete request was delivered …');
  t.same(complete.receivedResets, [], '… and is not touched by the timeout');
  t.same(complete.receivedStopSending, []);
  t.equal(server.activeRequests, 1, 'the rejected stream is gone');
});

t.test('at most maxIncompleteRequests incomplete requests per connection; more are rejected at once', async (t) => {
  const { c, server } = rawClient({ maxIncompleteRequests: 3 });
  const rejected = rejections(server);
  const requests: Http3RequestStream[] = [];
  server.on('request', (stream: Http3RequestStream) => requests.push(stream));
  const streams = Array.from({ length: 5 }, () => partialRequest(c));
  await settle();
  t.same(rejected, [null, null], 'the 4th and 5th are refused before any processing');
  t.same(streams.map((s) => s.receivedResets), [[], [], [], [H3_REQUEST_REJECTED], [H3_REQUEST_REJECTED]]);
  t.same(streams.map((s) => s.receivedStopSending), [[], [], [], [H3_REQUEST_REJECTED], [H3_REQUEST_REJECTED]]);
  // Completing one frees its room.
  streams[0]!.write(HEADERS.subarray(10));
  await settle();
  t.equal(requests.length, 1, 'the completed request is delivered');
  const next = partialRequest(c);
  await settle();
  t.same(next.receivedResets, [], 'a new incomplete request fits again');
  t.equal(rejected.length, 2);
  t.equal(server.activeRequests, 4, 'three incomplete, one complete');
});
