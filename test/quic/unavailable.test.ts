// Without the prebuilt native package HTTP/3 fails with a clear error, raised
// when a server or client is created (the import-time side is checked in
// server.test.ts: importing the engine loads nothing).
import t from 'tap';
import { loadFrom, QuicUnavailableError } from '../../src/quic/binding.js';

t.test('a missing native package gives QuicUnavailableError', async (t) => {
  const error = (() => {
    try {
      loadFrom(['@matrixai/quic-no-such-platform']);
      return null;
    } catch (e) {
      return e;
    }
  })();
  t.type(error, QuicUnavailableError);
  t.equal((error as QuicUnavailableError).code, 'ERR_QUIC_UNAVAILABLE');
  t.match((error as Error).message, /HTTP\/3 is unavailable: the native QUIC module \(@matrixai\/quic-no-such-platform\) could not be loaded/);
  t.match((error as Error).message, /HTTP\/1\.1 and HTTP\/2 are unaffected/);
});

t.test('the real package loads on this platform', async (t) => {
  const binding = loadFrom([`@matrixai/quic-${process.platform}-${process.arch}`]);
  t.equal(binding.PROTOCOL_VERSION, 1);
  t.equal(binding.MAX_CONN_ID_LEN, 20);
});
