import t, { type Test } from 'tap';
import { H3_FRAME_ERROR, H3_SETTINGS_ERROR, Http3Error } from '../../src/http3/errors.js';
import { SettingId, decodeSettings, encodeSettings, isReservedSettingId } from '../../src/http3/settings.js';
import { encodeVarint } from '../../src/http3/varint.js';

function payload(...pairs: Array<[number | bigint, number | bigint]>): Buffer {
  return Buffer.concat(pairs.flatMap(([id, value]) => [encodeVarint(id), encodeVarint(value)]));
}

function throwsCode(t: Test, fn: () => unknown, code: number, message: string): void {
  try {
    fn();
    t.fail(`${message}: did not throw`);
  } catch (error) {
    t.ok(error instanceof Http3Error && error.code === code && error.scope === 'connection', message);
  }
}

t.test('encode and decode our settings', async (t) => {
  const bytes = encodeSettings({ maxFieldSectionSize: 65536, enableConnectProtocol: true, grease: false });
  t.same(
    [...bytes],
    [...payload([SettingId.MAX_FIELD_SECTION_SIZE, 65536], [SettingId.ENABLE_CONNECT_PROTOCOL, 1])],
    'QPACK zeros are left out (their default), the rest in order',
  );
  const settings = decodeSettings(bytes);
  t.equal(settings.maxFieldSectionSize, 65536);
  t.equal(settings.enableConnectProtocol, true);
  t.equal(settings.qpackMaxTableCapacity, 0);
  t.equal(settings.qpackBlockedStreams, 0);
  t.same(settings.unknown, []);
});

t.test('defaults when absent', async (t) => {
  const settings = decodeSettings(Buffer.alloc(0));
  t.equal(settings.maxFieldSectionSize, Infinity, 'MAX_FIELD_SECTION_SIZE defaults to unlimited');
  t.equal(settings.enableConnectProtocol, false);
  t.equal(settings.h3Datagram, false);
});

t.test('every known setting decodes', async (t) => {
  const settings = decodeSettings(
    payload([0x01, 4096], [0x06, 16384], [0x07, 100], [0x08, 0], [0x33, 1]),
  );
  t.equal(settings.qpackMaxTableCapacity, 4096);
  t.equal(settings.maxFieldSectionSize, 16384);
  t.equal(settings.qpackBlockedStreams, 100);
  t.equal(settings.enableConnectProtocol, false, 'ENABLE_CONNECT_PROTOCOL 0');
  t.equal(settings.h3Datagram, true, 'H3_DATAGRAM tolerated');
});

t.test('grease and unknown ids are ignored', async (t) => {
  t.ok(isReservedSettingId(0x21));
  t.ok(isReservedSettingId(0x40));
  t.ok(isReservedSettingId(0x1f * 1000 + 0x21));
  t.ok(isReservedSettingId((1n << 62n) - 2n), '0x3ffffffffffffffe is the largest reserved id');
  t.notOk(isReservedSettingId(0x22));
  const settings = decodeSettings(payload([0x21, 7], [0x1f * 77 + 0x21, 1], [0x1234, 5], [(1n << 62n) - 2n, 0], [0x00, 1]));
  t.equal(settings.unknown.length, 5, 'five ignored settings, including reserved 0x00');
  t.equal(settings.enableConnectProtocol, false);
});

t.test('encodeSettings adds one grease setting by default', async (t) => {
  const settings = decodeSettings(encodeSettings({}));
  t.equal(settings.unknown.length, 1);
  t.ok(isReservedSettingId((settings.unknown[0] as [number, number])[0]));
});

t.test('errors', async (t) => {
  throwsCode(t, () => decodeSettings(payload([0x06, 1], [0x06, 2])), H3_SETTINGS_ERROR, 'duplicate id → H3_SETTINGS_ERROR');
  throwsCode(t, () => decodeSettings(payload([0x21, 1], [0x21, 1])), H3_SETTINGS_ERROR, 'duplicate grease id too');
  for (const id of [0x02, 0x03, 0x04, 0x05]) {
    throwsCode(t, () => decodeSettings(payload([id, 0])), H3_SETTINGS_ERROR, `HTTP/2 setting 0x0${id} → H3_SETTINGS_ERROR`);
  }
  throwsCode(t, () => decodeSettings(payload([0x08, 2])), H3_SETTINGS_ERROR, 'ENABLE_CONNECT_PROTOCOL 2 → H3_SETTINGS_ERROR');
  throwsCode(t, () => decodeSettings(payload([0x33, 7])), H3_SETTINGS_ERROR, 'H3_DATAGRAM 7 → H3_SETTINGS_ERROR');
  throwsCode(t, () => decodeSettings(Buffer.from([0x06])), H3_FRAME_ERROR, 'id without a value → H3_FRAME_ERROR');
  throwsCode(t, () => decodeSettings(Buffer.from([0x06, 0x40])), H3_FRAME_ERROR, 'value cut short → H3_FRAME_ERROR');
});
