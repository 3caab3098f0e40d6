import t from 'tap';
import { parseExtensionHeader } from '../../../src/protocol/extension-header.js';
import {
  acceptDeflateOffer,
  acceptDeflateResponse,
  DEFLATE_DEFAULTS,
  deflateOfferHeader,
  resolveDeflateOptions,
  type DeflateOptions,
  type DeflateParams,
} from '../../../src/protocol/deflate/negotiation.js';

const offer = (header: string) => parseExtensionHeader([header]);
const accept = (header: string, options: DeflateOptions = {}) => acceptDeflateOffer(offer(header), options);
const params = (p: Partial<DeflateParams> = {}): DeflateParams => ({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  ...p,
});

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

t.test('defaults', async (t) => {
  t.same(resolveDeflateOptions({}), {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
    threshold: 1024,
    level: 6,
    memLevel: 8,
    concurrency: 10,
  });
  t.same(resolveDeflateOptions(), DEFLATE_DEFAULTS);
  t.same(resolveDeflateOptions({ level: 1, serverMaxWindowBits: undefined }).level, 1);
  t.equal(resolveDeflateOptions({ serverMaxWindowBits: undefined }).serverMaxWindowBits, 15);
  t.equal(resolveDeflateOptions({ concurrency: Infinity }).concurrency, Infinity);
});

t.test('invalid options throw', async (t) => {
  const bad: Array<[DeflateOptions, RegExp]> = [
    [{ serverMaxWindowBits: 8 }, /serverMaxWindowBits must be an integer from 9 to 15, got 8/],
    [{ serverMaxWindowBits: 16 }, /serverMaxWindowBits must be an integer from 9 to 15, got 16/],
    [{ clientMaxWindowBits: 8 }, /clientMaxWindowBits must be an integer from 9 to 15, got 8/],
    [{ clientMaxWindowBits: 12.5 }, /clientMaxWindowBits must be an integer from 9 to 15/],
    [{ level: 10 }, /level must be an integer from 0 to 9, got 10/],
    [{ level: -1 }, /level must be an integer from 0 to 9, got -1/],
    [{ memLevel: 0 }, /memLevel must be an integer from 1 to 9, got 0/],
    [{ concurrency: 0 }, /concurrency must be an integer from 1/],
    [{ threshold: -1 }, /threshold must be a number >= 0, got -1/],
    [{ threshold: Number.NaN }, /threshold must be a number >= 0, got NaN/],
    [{ serverNoContextTakeover: 'yes' as unknown as boolean }, /serverNoContextTakeover must be a boolean, got yes/],
    [{ clientNoContextTakeover: 1 as unknown as boolean }, /clientNoContextTakeover must be a boolean, got 1/],
  ];
  for (const [options, message] of bad) {
    t.throws(() => resolveDeflateOptions(options), { message }, JSON.stringify(options));
  }
  t.throws(() => acceptDeflateOffer(offer('permessage-deflate'), { serverMaxWindowBits: 8 }), RangeError);
  t.throws(() => deflateOfferHeader({ clientMaxWindowBits: 16 }), RangeError);
  t.throws(() => acceptDeflateResponse([], { level: 11 }), RangeError);
});

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

t.test('server: plain offer is accepted with default parameters', async (t) => {
  t.same(accept('permessage-deflate'), { params: params(), response: 'permessage-deflate' });
});

t.test('server: no offer, or only other extensions -> null', async (t) => {
  t.equal(acceptDeflateOffer([], {}), null);
  t.equal(accept('x-webkit-deflate-frame, foo; a=1'), null);
  t.equal(accept('Permessage-Deflate'), null, 'extension names are compared exactly');
});

t.test('server: other extensions are skipped, permessage-deflate found later', async (t) => {
  t.same(accept('foo, permessage-deflate; client_max_window_bits'), { params: params(), response: 'permessage-deflate' });
});

t.test('server: server_no_context_takeover offered is echoed', async (t) => {
  t.same(accept('permessage-deflate; server_no_context_takeover'), {
    params: params({ serverNoContextTakeover: true }),
    response: 'permessage-deflate; server_no_context_takeover',
  });
});

t.test('server: server_no_context_takeover added by option', async (t) => {
  t.same(accept('permessage-deflate', { serverNoContextTakeover: true }), {
    params: params({ serverNoContextTakeover: true }),
    response: 'permessage-deflate; server_no_context_takeover',
  });
});

t.test('server: client_no_context_takeover added by option', async (t) => {
  t.same(accept('permessage-deflate', { clientNoContextTakeover: true }), {
    params: params({ clientNoContextTakeover: true }),
    response: 'permessage-deflate; client_no_context_takeover',
  });
});

t.test('server: client_no_context_takeover offered is echoed', async (t) => {
  t.same(accept('permessage-deflate; client_no_context_takeover'), {
    params: params({ clientNoContextTakeover: true }),
    response: 'permessage-deflate; client_no_context_takeover',
  });
});

t.test('server: server_max_window_bits offered obliges the server to use <= N and answer it', async (t) => {
  t.same(accept('permessage-deflate; server_max_window_bits=10'), {
    params: params({ serverMaxWindowBits: 10 }),
    response: 'permessage-deflate; server_max_window_bits=10',
  });
  t.same(accept('permessage-deflate; server_max_window_bits=15'), {
    params: params(),
    response: 'permessage-deflate; server_max_window_bits=15',
  });
  // Our own smaller limit wins.
  t.same(accept('permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 }), {
    params: params({ serverMaxWindowBits: 10 }),
    response: 'permessage-deflate; server_max_window_bits=10',
  });
  // Our own larger option does not exceed what the client allows.
  t.same(accept('permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 12 }), {
    params: params({ serverMaxWindowBits: 9 }),
    response: 'permessage-deflate; server_max_window_bits=9',
  });
  // A quoted value is the same value.
  t.same(accept('permessage-deflate; server_max_window_bits="11"'), {
    params: params({ serverMaxWindowBits: 11 }),
    response: 'permessage-deflate; server_max_window_bits=11',
  });
});

t.test('server: server_max_window_bits sent unasked when our option is below 15', async (t) => {
  t.same(accept('permessage-deflate', { serverMaxWindowBits: 11 }), {
    params: params({ serverMaxWindowBits: 11 }),
    response: 'permessage-deflate; server_max_window_bits=11',
  });
});

t.test('server: client_max_window_bits', async (t) => {
  // Offered without value, default option: nothing to say, client uses 15.
  t.same(accept('permessage-deflate; client_max_window_bits'), { params: params(), response: 'permessage-deflate' });
  // Offered without value, our option limits the client.
  t.same(accept('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 10 }), {
    params: params({ clientMaxWindowBits: 10 }),
    response: 'permessage-deflate; client_max_window_bits=10',
  });
  // Offered with a value: answered with a value no larger.
  t.same(accept('permessage-deflate; client_max_window_bits=12'), {
    params: params({ clientMaxWindowBits: 12 }),
    response: 'permessage-deflate; client_max_window_bits=12',
  });
  t.same(accept('permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 }), {
    params: params({ clientMaxWindowBits: 10 }),
    response: 'permessage-deflate; client_max_window_bits=10',
  });
  t.same(accept('permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 12 }), {
    params: params({ clientMaxWindowBits: 10 }),
    response: 'permessage-deflate; client_max_window_bits=10',
  });
  // 8 offered by the client is its own promise: fine for our inflater.
  t.same(accept('permessage-deflate; client_max_window_bits=8'), {
    params: params({ clientMaxWindowBits: 8 }),
    response: 'permessage-deflate; client_max_window_bits=8',
  });
  // Not offered: must not be sent, whatever our option; the client may use 15.
  t.same(accept('permessage-deflate', { clientMaxWindowBits: 10 }), { params: params(), response: 'permessage-deflate' });
});

t.test('server: all parameters together, in canonical response order', async (t) => {
  t.same(
    accept(
      'permessage-deflate; client_max_window_bits=14; server_max_window_bits=13; client_no_context_takeover; server_no_context_takeover',
      { clientMaxWindowBits: 12 },
    ),
    {
      params: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 13, clientMaxWindowBits: 12 },
      response:
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=13; client_max_window_bits=12',
    },
  );
});

t.test('server: declines (null) every invalid offer (RFC 7692 §7)', async (t) => {
  const declined = [
    'permessage-deflate; foo',
    'permessage-deflate; foo=1',
    'permessage-deflate; Server_No_Context_Takeover',
    'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
    'permessage-deflate; client_no_context_takeover; client_no_context_takeover',
    'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10',
    'permessage-deflate; client_max_window_bits; client_max_window_bits=10',
    'permessage-deflate; server_no_context_takeover=1',
    'permessage-deflate; server_no_context_takeover="x"',
    'permessage-deflate; client_no_context_takeover=true',
    'permessage-deflate; server_max_window_bits',
    'permessage-deflate; server_max_window_bits=7',
    'permessage-deflate; server_max_window_bits=16',
    'permessage-deflate; server_max_window_bits=010',
    'permessage-deflate; server_max_window_bits=09',
    'permessage-deflate; server_max_window_bits=+9',
    'permessage-deflate; server_max_window_bits=1e1',
    'permessage-deflate; server_max_window_bits=abc',
    'permessage-deflate; client_max_window_bits=7',
    'permessage-deflate; client_max_window_bits=16',
    'permessage-deflate; client_max_window_bits=015',
    'permessage-deflate; client_max_window_bits=0x0f',
    // zlib cannot compress with an 8-bit window.
    'permessage-deflate; server_max_window_bits=8',
  ];
  for (const header of declined) t.equal(accept(header), null, header);
});

t.test('server: a declined offer falls through to the next acceptable one', async (t) => {
  t.same(
    accept(
      'permessage-deflate; server_max_window_bits=8, permessage-deflate; unknown, permessage-deflate; server_max_window_bits=9; client_max_window_bits',
    ),
    { params: params({ serverMaxWindowBits: 9 }), response: 'permessage-deflate; server_max_window_bits=9' },
  );
  // The first acceptable offer is taken even if a later one is "better".
  t.same(accept('permessage-deflate; server_no_context_takeover, permessage-deflate'), {
    params: params({ serverNoContextTakeover: true }),
    response: 'permessage-deflate; server_no_context_takeover',
  });
});

// ---------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------

t.test('client: offer header', async (t) => {
  t.equal(deflateOfferHeader({}), 'permessage-deflate; client_max_window_bits');
  t.equal(deflateOfferHeader({ clientMaxWindowBits: 10 }), 'permessage-deflate; client_max_window_bits=10');
  t.equal(
    deflateOfferHeader({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 11 }),
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11',
  );
  t.equal(deflateOfferHeader({ serverMaxWindowBits: 15 }), 'permessage-deflate; client_max_window_bits', '15 is the default, not sent');
});

t.test('client: the offer is accepted by our own server as offered', async (t) => {
  const options: DeflateOptions = { serverNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 };
  const accepted = acceptDeflateOffer(offer(deflateOfferHeader(options)), {});
  t.ok(accepted);
  const agreed = acceptDeflateResponse(offer(accepted!.response), options);
  t.same(agreed, accepted!.params);
  t.same(agreed, params({ serverNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 }));
});

const respond = (header: string, options: DeflateOptions = {}) => acceptDeflateResponse(parseExtensionHeader([header]), options);

t.test('client: no extension in the response -> null', async (t) => {
  t.equal(acceptDeflateResponse([], {}), null);
  t.equal(respond(''), null);
});

t.test('client: valid responses', async (t) => {
  t.same(respond('permessage-deflate'), params());
  t.same(respond('permessage-deflate; server_no_context_takeover'), params({ serverNoContextTakeover: true }), 'unrequested is allowed');
  t.same(respond('permessage-deflate; client_no_context_takeover'), params({ clientNoContextTakeover: true }), 'server may add it');
  t.same(respond('permessage-deflate; server_max_window_bits=8'), params({ serverMaxWindowBits: 8 }), 'unrequested, any 8..15');
  t.same(respond('permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 10 }), params({ serverMaxWindowBits: 9 }));
  t.same(respond('permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }), params({ serverMaxWindowBits: 10 }));
  t.same(respond('permessage-deflate; client_max_window_bits=9'), params({ clientMaxWindowBits: 9 }));
  t.same(respond('permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 11 }), params({ clientMaxWindowBits: 10 }));
  t.same(respond('permessage-deflate', { clientMaxWindowBits: 11 }), params({ clientMaxWindowBits: 11 }), 'our offered value binds us');
  t.same(respond('permessage-deflate', { clientNoContextTakeover: true }), params({ clientNoContextTakeover: true }), 'our promise binds us');
  t.same(
    respond('permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }),
    params({ serverNoContextTakeover: true }),
  );
  t.same(respond('permessage-deflate; server_max_window_bits="12"'), params({ serverMaxWindowBits: 12 }), 'quoted value');
});

t.test('client: invalid responses throw precise errors', async (t) => {
  const cases: Array<[string, DeflateOptions, string]> = [
    ['foo', {}, 'the server selected extension "foo", which was not offered'],
    ['permessage-deflate, foo', {}, 'the server selected extension "foo", which was not offered'],
    ['permessage-deflate, permessage-deflate', {}, 'permessage-deflate appears more than once'],
    ['permessage-deflate; foo', {}, 'unknown parameter "foo"'],
    ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', {}, 'duplicate parameter "server_no_context_takeover"'],
    ['permessage-deflate; client_max_window_bits=10; client_max_window_bits=10', {}, 'duplicate parameter "client_max_window_bits"'],
    ['permessage-deflate; server_no_context_takeover=1', {}, 'server_no_context_takeover must not have a value'],
    ['permessage-deflate; client_no_context_takeover=1', {}, 'client_no_context_takeover must not have a value'],
    ['permessage-deflate; server_max_window_bits', {}, 'server_max_window_bits must have a value'],
    ['permessage-deflate; server_max_window_bits=7', {}, 'invalid server_max_window_bits value "7"'],
    ['permessage-deflate; server_max_window_bits=16', {}, 'invalid server_max_window_bits value "16"'],
    ['permessage-deflate; server_max_window_bits=09', {}, 'invalid server_max_window_bits value "09"'],
    ['permessage-deflate; server_max_window_bits=11', { serverMaxWindowBits: 10 }, 'server_max_window_bits=11 is larger than the requested 10'],
    ['permessage-deflate', { serverMaxWindowBits: 10 }, 'server_max_window_bits=10 was requested but the response does not include it'],
    ['permessage-deflate', { serverNoContextTakeover: true }, 'server_no_context_takeover was requested but the response does not include it'],
    ['permessage-deflate; client_max_window_bits', {}, 'client_max_window_bits must have a value'],
    ['permessage-deflate; client_max_window_bits=7', {}, 'invalid client_max_window_bits value "7"'],
    ['permessage-deflate; client_max_window_bits=016', {}, 'invalid client_max_window_bits value "016"'],
    ['permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 11 }, 'client_max_window_bits=12 is larger than the offered 11'],
    ['permessage-deflate; client_max_window_bits=8', {}, 'client_max_window_bits=8 cannot be honoured (zlib compresses with at least a 9-bit window)'],
  ];
  for (const [header, options, message] of cases) {
    t.throws(() => respond(header, options), { message: `Invalid permessage-deflate response: ${message}` }, header);
  }
});
