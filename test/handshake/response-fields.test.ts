// The checks on the lines a 'headers' listener leaves (src/handshake/response-fields.ts).
import t from 'tap';
import { editResponseFields } from '../../src/handshake/response-fields.js';

const FIELDS: Array<[string, string]> = [['sec-websocket-protocol', 'chat']];

t.test('lines become fields: names as written, optional whitespace trimmed, repeats kept, edits and removals honoured', async (t) => {
  const fields = editResponseFields(FIELDS, (lines) => {
    t.same(lines, ['sec-websocket-protocol: chat']);
    lines.push('Set-Cookie: a=1', 'Set-Cookie:b=2', 'X-Note: \t spaced out \t', 'X-Empty:');
  });
  t.same(fields, [
    ['sec-websocket-protocol', 'chat'],
    ['Set-Cookie', 'a=1'],
    ['Set-Cookie', 'b=2'],
    ['X-Note', 'spaced out'],
    ['X-Empty', ''],
  ]);
  t.same(editResponseFields(FIELDS, (lines) => lines.splice(0)), [], 'a listener may remove lines');
});

t.test('every invalid line throws, naming it', async (t) => {
  const cases: Array<[line: unknown, why: RegExp]> = [
    ['X-Note: a\r\nX-Injected: 1', /CR, LF, NUL/],
    ['X-Note: a\nb', /CR, LF, NUL/],
    ['X-Note: a\0b', /CR, LF, NUL/],
    ['X-Note: a\x7fb', /CR, LF, NUL/],
    ['X-Note: snow \u2603', /CR, LF, NUL/],
    ['X Bad: 1', /must be a token/],
    ['no colon at all', /must be a token/],
    [': empty name', /pseudo-fields/],
    [':status: 200', /pseudo-fields/],
    ['Connection: close', /Connection may not be set/],
    ['keep-alive: timeout=5', /keep-alive may not be set/],
    ['Proxy-Connection: keep-alive', /Proxy-Connection may not be set/],
    ['Transfer-Encoding: chunked', /Transfer-Encoding may not be set/],
    ['UPGRADE: h2c', /UPGRADE may not be set/],
    ['Content-Length: 0', /Content-Length may not be set/],
    ['Sec-WebSocket-Accept: x', /Sec-WebSocket-Accept may not be set/],
    [42, /not a string/],
  ];
  for (const [line, why] of cases) {
    let message = '';
    try {
      editResponseFields(FIELDS, (lines) => (lines as unknown[]).push(line));
    } catch (error) {
      message = (error as Error).message;
    }
    t.match(message, why, JSON.stringify(line));
    t.ok(message.includes(JSON.stringify(line)), `the message quotes ${JSON.stringify(line)}`);
  }
});
