/** The client-mode case table: Autobahn numbering, patterns, and the UTF-8 table checked by an independent decoder. */
import t from 'tap';
import { SERVE_CASES, selectCases } from '../../../src/conformance/serve/cases.js';

t.test('case ids are unique and in Autobahn order', async (t) => {
  const ids = SERVE_CASES.map((c) => c.id);
  t.equal(new Set(ids).size, ids.length);
  const parts = ids.map((id) => id.split('.').map(Number));
  for (let i = 1; i < parts.length; i++) {
    const [a, b] = [parts[i - 1]!, parts[i]!];
    const order = a.findIndex((x, k) => x !== b[k]);
    t.ok(order >= 0 && a[order]! < b[order]!, `${ids[i - 1]} before ${ids[i]}`);
  }
});

t.test('cases per category', async (t) => {
  const count: Record<string, number> = {};
  for (const c of SERVE_CASES) count[c.id.split('.')[0]!] = (count[c.id.split('.')[0]!] ?? 0) + 1;
  // 6: 6.1.1–6.1.3, 6.2.1–6.2.4, 6.3.1–6.3.2, 6.4.1–6.4.4 and Autobahn's 132 sequences 6.5.1–6.23.7.
  // 9: 9.1–9.8 with 6, 6, 9, 9, 6, 6, 6, 6 cases.
  // 12: 5 kinds of data x Autobahn's 18 sizes; 13: 7 parameter choices x 18 sizes.
  t.same(count, { 1: 16, 2: 11, 3: 7, 4: 10, 5: 20, 6: 145, 7: 37, 9: 54, 10: 1, 12: 90, 13: 126 });
  t.equal(SERVE_CASES.find((c) => c.id === '6.23.7')?.description.endsWith('0xefbfbf'), true);
});

t.test("Autobahn's UTF-8 sequences: valid ones echoed, invalid ones fail with 1007, as TextDecoder judges them", async (t) => {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const table = SERVE_CASES.filter((c) => /^6\.([5-9]|1\d|2[0-3])\./.test(c.id));
  t.equal(table.length, 132);
  for (const c of table) {
    const payload = Buffer.from(c.description.split('0x')[1]!, 'hex');
    let valid = true;
    try {
      decoder.decode(payload);
    } catch {
      valid = false;
    }
    const expected = c.expect.by === 'server' ? 'echo' : c.expect.codes.join();
    t.equal(expected, valid ? 'echo' : '1007', `${c.id} 0x${payload.toString('hex')}`);
  }
});

t.test('the 9.x payloads are views of one buffer per kind, allocated once, not one per case', async (t) => {
  const perf = SERVE_CASES.filter((c) => c.id.startsWith('9.'));
  const buffers = (kind: string): Set<ArrayBufferLike> => new Set(perf.flatMap((c) => c.expect.replies.filter((r) => r.kind === kind).map((r) => r.data.buffer)));
  t.equal(buffers('text').size, 1);
  t.equal(buffers('binary').size, 1);
  t.equal([...buffers('text')][0]!.byteLength, 16 * 1024 * 1024, 'the size of the largest, 9.1.6');
  // Each case's steps carry the message itself, framed when it is sent.
  t.ok(perf.every((c) => c.send.every((step) => !('bytes' in step))), 'no case holds frames of its own');
});

t.test('case patterns select as Autobahn’s do', async (t) => {
  t.same(selectCases('1.1.*').map((c) => c.id), ['1.1.1', '1.1.2', '1.1.3', '1.1.4', '1.1.5', '1.1.6', '1.1.7', '1.1.8']);
  t.same(selectCases('2.1, 10.*').map((c) => c.id), ['2.1', '10.1.1']);
  t.equal(selectCases('2.1').length, 1, 'no wildcard: exactly that case, not 2.10 and 2.11');
  t.equal(selectCases(undefined).length, SERVE_CASES.length);
  t.same(selectCases('99.*'), []);
});
