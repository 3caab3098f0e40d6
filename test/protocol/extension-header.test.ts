import t from 'tap';
import { formatExtension, parseExtensionHeader } from '../../src/protocol/extension-header.js';
import { isToken } from '../../src/protocol/tokens.js';

t.test('parses a single extension without parameters', async (t) => {
  t.same(parseExtensionHeader(['permessage-deflate']), [{ name: 'permessage-deflate', params: [] }]);
});

t.test('parses parameters with and without values, in order', async (t) => {
  t.same(parseExtensionHeader(['permessage-deflate; client_max_window_bits; server_max_window_bits=10']), [
    {
      name: 'permessage-deflate',
      params: [
        ['client_max_window_bits', true],
        ['server_max_window_bits', '10'],
      ],
    },
  ]);
});

t.test('parses a comma list and several header lines in order', async (t) => {
  t.same(parseExtensionHeader(['a; x=1, b', 'c;y']), [
    { name: 'a', params: [['x', '1']] },
    { name: 'b', params: [] },
    { name: 'c', params: [['y', true]] },
  ]);
});

t.test('keeps duplicate extensions and duplicate parameters', async (t) => {
  t.same(parseExtensionHeader(['foo; a=1; a=2, foo']), [
    {
      name: 'foo',
      params: [
        ['a', '1'],
        ['a', '2'],
      ],
    },
    { name: 'foo', params: [] },
  ]);
});

t.test('optional whitespace around every separator (implied *LWS)', async (t) => {
  t.same(parseExtensionHeader([' \tfoo ; a = 1 ;\tb , bar\t;c= "2" \t']), [
    {
      name: 'foo',
      params: [
        ['a', '1'],
        ['b', true],
      ],
    },
    { name: 'bar', params: [['c', '2']] },
  ]);
});

t.test('quoted values are unquoted and unescaped', async (t) => {
  t.same(parseExtensionHeader(['foo; a="10"; b="x\\-y"; c="\\a\\b"']), [
    {
      name: 'foo',
      params: [
        ['a', '10'],
        ['b', 'x-y'],
        ['c', 'ab'],
      ],
    },
  ]);
});

t.test('empty list elements are skipped; an empty header gives []', async (t) => {
  t.same(parseExtensionHeader([]), []);
  t.same(parseExtensionHeader(['']), []);
  t.same(parseExtensionHeader(['  ']), []);
  t.same(parseExtensionHeader([',']), []);
  t.same(parseExtensionHeader([', ,foo,, ,bar ,']), [
    { name: 'foo', params: [] },
    { name: 'bar', params: [] },
  ]);
});

t.test('token characters are those of RFC 7230 tchar', async (t) => {
  const name = "!#$%&'*+-.^_`|~09AZaz";
  t.same(parseExtensionHeader([`${name}; ${name}=${name}`]), [{ name, params: [[name, name]] }]);
  t.equal(isToken(name), true);
  t.equal(isToken(''), false);
  t.equal(isToken('a b'), false);
  t.equal(isToken('a"'), false);
  t.equal(isToken('é'), false);
});

t.test('grammar violations throw SyntaxError with a precise message', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [';foo', /expected an extension name, found ";" at index 0/],
    ['foo;', /expected a parameter name, found end of header/],
    ['foo; ;a', /expected a parameter name, found ";" at index 5/],
    ['foo;a=', /expected a value for parameter "a", found end of header/],
    ['foo;a=;b', /expected a value for parameter "a", found ";" at index 6/],
    ['foo;=1', /expected a parameter name, found "=" at index 4/],
    ['foo bar', /unexpected "b" at index 4/],
    ['foo;a b', /unexpected "b" at index 6/],
    ['foo;a=1 2', /unexpected "2" at index 8/],
    ['foo;a=1=2', /unexpected "=" at index 7/],
    ['foo;a="1"2', /unexpected "2" at index 9/],
    ['fo(o', /unexpected "\(" at index 2/],
    ['foo/bar', /unexpected "\/" at index 3/],
    ['foo;a=b/c', /unexpected "\/" at index 7/],
    ['foo;a="', /unterminated quoted string starting at index 6/],
    ['foo;a="10', /unterminated quoted string starting at index 6/],
    ['foo;a="1\\', /unterminated quoted string starting at index 6/],
    ['foo;a=""', /quoted value of parameter "a" at index 6 is not a token after unescaping/],
    ['foo;a="1 0"', /quoted value of parameter "a" at index 6 is not a token after unescaping/],
    ['foo;a="x\\"y"', /quoted value of parameter "a" at index 6 is not a token after unescaping/],
    ['foo;a="x,y"', /quoted value of parameter "a" at index 6 is not a token after unescaping/],
    ['foo;a="x\u0001"', /invalid character in quoted string 0x01 at index 8/],
    ['foo;a="\\\u0001"', /invalid escaped character 0x01 at index 8/],
    ['foo\u0000', /unexpected 0x00 at index 3/],
    ['"foo"', /expected an extension name, found """ at index 0/],
    ['foo, ;a', /expected an extension name, found ";" at index 5/],
    ['foo;a=é', /expected a value for parameter "a", found 0xe9 at index 6/],
  ];
  for (const [header, message] of cases) {
    t.throws(() => parseExtensionHeader([header]), { name: 'SyntaxError', message }, JSON.stringify(header));
  }
  t.throws(() => parseExtensionHeader(['foo', 'bar;']), SyntaxError, 'an error in a later line is found');
});

t.test('formatExtension', async (t) => {
  t.equal(formatExtension('permessage-deflate', []), 'permessage-deflate');
  t.equal(
    formatExtension('permessage-deflate', [
      ['server_no_context_takeover', true],
      ['client_max_window_bits', '10'],
    ]),
    'permessage-deflate; server_no_context_takeover; client_max_window_bits=10',
  );
  t.throws(() => formatExtension('bad name', []), { name: 'TypeError', message: 'Invalid extension name: "bad name"' });
  t.throws(() => formatExtension('x', [['a\r\n', true]]), { name: 'TypeError', message: 'Invalid extension parameter name: "a\\r\\n"' });
  t.throws(() => formatExtension('x', [['a', '1 2']]), { name: 'TypeError', message: 'Invalid value for extension parameter "a": "1 2"' });
  t.throws(() => formatExtension('x', [['a', '']]), TypeError);
});

t.test('formatExtension output parses back to the same structure', async (t) => {
  const params: Array<[string, string | true]> = [
    ['a', true],
    ['b', '15'],
    ['a', 'x'],
  ];
  t.same(parseExtensionHeader([formatExtension('ext', params)]), [{ name: 'ext', params }]);
});
