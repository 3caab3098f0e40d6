import t from 'tap';
import { H3_MESSAGE_ERROR, Http3Error } from '../../src/http3/errors.js';
import {
  type HeaderList,
  checkOutgoing,
  checkRequestHeaders,
  checkResponseHeaders,
  checkTrailers,
  headerValue,
} from '../../src/http3/fields.js';

function malformed(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (error) {
    return error instanceof Http3Error && error.code === H3_MESSAGE_ERROR && error.scope === 'stream';
  }
}

const base: HeaderList = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']];

t.test('requests', async (t) => {
  t.same([...checkRequestHeaders(base, { allowProtocol: false }).entries()], base, 'pseudo-header fields returned');
  t.ok(malformed(() => checkRequestHeaders([...base, [':protocol', 'websocket']], { allowProtocol: false })), ':protocol unknown unless enabled');
  t.notOk(malformed(() => checkRequestHeaders([[':method', 'CONNECT'], [':protocol', 'websocket'], ...base.slice(1)], { allowProtocol: true })), ':protocol when enabled');
  t.notOk(malformed(() => checkRequestHeaders([[':method', 'CONNECT'], [':authority', 'host:443']], { allowProtocol: false })), 'a plain CONNECT (§4.4): method-specific rules are the caller’s');
  t.notOk(malformed(() => checkRequestHeaders([[':method', 'OPTIONS'], [':scheme', 'https'], [':path', '*']], { allowProtocol: false })));
  t.ok(malformed(() => checkRequestHeaders([[':method', '']], { allowProtocol: false })), 'empty :method');
  t.notOk(malformed(() => checkRequestHeaders([...base, ['te', 'trailers']], { allowProtocol: false })));
  t.notOk(malformed(() => checkRequestHeaders([...base, ['cookie', 'a=b'], ['cookie', 'c=d']], { allowProtocol: false })), 'split cookies (§4.2.1)');
  t.notOk(malformed(() => checkRequestHeaders([...base, ['x', '']], { allowProtocol: false })), 'empty values are fine');
  t.notOk(malformed(() => checkRequestHeaders([...base, ['x', 'a b\tc\x80\xff']], { allowProtocol: false })), 'inner SP/HTAB and obs-text');
  t.ok(malformed(() => checkRequestHeaders([...base, ['x', 'a\x7fb']], { allowProtocol: false })), 'DEL');
  t.ok(malformed(() => checkRequestHeaders([...base, ['x', 'a\x01']], { allowProtocol: false })), 'a control byte');
  t.ok(malformed(() => checkRequestHeaders([...base, ['x(y)', '1']], { allowProtocol: false })), 'a separator in a name');
  t.ok(malformed(() => checkRequestHeaders([[':method', 'GET'], [':scheme', 'http'], [':path', '']], { allowProtocol: false })), 'empty :path for http');
  t.notOk(malformed(() => checkRequestHeaders([[':method', 'GET'], [':scheme', 'foo'], [':path', '']], { allowProtocol: false })), 'other schemes may differ');
});

t.test('responses', async (t) => {
  t.equal(checkResponseHeaders([[':status', '204']]), 204);
  for (const status of ['099', '600', '20', '2000', 'abc', '101', '']) {
    t.ok(malformed(() => checkResponseHeaders([[':status', status]])), `:status ${JSON.stringify(status)}`);
  }
  t.ok(malformed(() => checkResponseHeaders([[':status', '200'], [':status', '200']])), 'duplicate :status');
  t.ok(malformed(() => checkResponseHeaders([['x', '1'], [':status', '200']])), ':status after a regular field');
  t.ok(malformed(() => checkResponseHeaders([[':status', '200'], ['te', 'trailers']])), 'TE belongs to requests');
});

t.test('trailers', async (t) => {
  t.notOk(malformed(() => checkTrailers([['x-sum', '1']], false)));
  t.ok(malformed(() => checkTrailers([[':status', '200']], false)), 'no pseudo-header fields in trailers (§4.3)');
  t.ok(malformed(() => checkTrailers([['connection', 'close']], true)));
});

t.test('outgoing checks turn into TypeErrors', async (t) => {
  t.throws(() => checkOutgoing(() => checkResponseHeaders([])), TypeError);
  t.equal(checkOutgoing(() => 5), 5);
  t.equal(headerValue([['a', '1'], ['b', '2'], ['b', '3']], 'b'), '2');
  t.equal(headerValue([], 'b'), undefined);
});
