// docs/interop.md is generated from tap's TAP output: the parser must find
// every cell at any nesting depth, count a failed or skipped cell as not
// passing, and keep peer-deviation cells out of the pass count.
import t from 'tap';
import { parseTap, renderReport } from '../../scripts/interop/report.mjs';

const TAP = `TAP version 14
# Subtest: test/interop/a.test.ts
    # Subtest: peer=p1 version=1.0-1 direction=client->trident transport=h2 deflate=params variant=tls,client_max_window_bits=9
        ok 1 - echo
        1..1
    ok 1 - peer=p1 version=1.0-1 direction=client->trident transport=h2 deflate=params variant=tls,client_max_window_bits=9 # time=5ms
    not ok 2 - peer=p2 version=missing direction=trident->server transport=h1 deflate=off # time=1ms
    ok 3 - peer=p3 version=2 direction=trident->server transport=h3 deflate=on # SKIP no peer
    ok 4 - peer=p4 version=3 direction=trident->server transport=h1 deflate=params variant=x deviation=RFC7692-7.1.2.1 # time=1ms
    ok 5 - an ordinary subtest
    ok 6 - peer=quic-go version=0.29.0 direction=client->trident transport=h3 deflate=off echo 64 KiB binary # time=3ms
not ok 1 - test/interop/a.test.ts # time=9ms
ok 2 - test/interop/b.test.ts # time=9ms
`;

t.test('parseTap finds cells, results and files', async (t) => {
  const { cells, files } = parseTap(TAP);
  t.same(
    cells.map((cell) => [cell.peer, cell.result]),
    [
      ['p1', 'pass'],
      ['p2', 'fail'],
      ['p3', 'skip'],
      ['p4', 'pass'],
      ['quic-go', 'pass'],
    ],
  );
  t.equal(cells[4].variant, 'echo 64 KiB binary', 'words after the fields name the case');
  t.equal(cells[4].transport, 'h3');
  t.equal(cells[0].variant, 'tls,client_max_window_bits=9', 'a value runs to the next space and may hold "="');
  t.equal(cells[0].version, '1.0-1');
  t.equal(cells[3].deviation, 'RFC7692-7.1.2.1');
  t.same(files, [
    { file: 'test/interop/a.test.ts', result: 'fail' },
    { file: 'test/interop/b.test.ts', result: 'pass' },
  ]);
});

t.test('renderReport counts deviations apart and skips as failures', async (t) => {
  const text = renderReport(parseTap(TAP), { date: '2026-12-05', commit: 'abc1234', node: 'v20' });
  t.ok(text.includes('**4 cells: 2 passed, 2 failed.**'), 'p1 passed; p2 failed; p3 skipped counts as failed; p4 is a deviation');
  t.ok(text.includes('| p1 | 1.0-1 | client->trident | h2 | params | tls,client_max_window_bits=9 | ✅ pass | 2026-12-05 | abc1234 |'));
  t.ok(text.includes('**p4 3**'), 'the deviation is listed under what peers get wrong');
});
