// What the package's entry point offers beyond the classes: HTTP/3's
// availability can be checked before listen({ http3 }) (issue 14).
import t from 'tap';
import * as trident from '../../src/index.js';

t.test('quicAvailable and QuicUnavailableError are exported', async (t) => {
  t.type(trident.quicAvailable, 'function');
  // This machine has the linux-x64 binding installed (an optional dependency).
  t.equal(trident.quicAvailable(), process.platform === 'linux' && process.arch === 'x64');
  const error = new trident.QuicUnavailableError('no binding here');
  t.ok(error instanceof Error);
  t.equal(error.name, 'QuicUnavailableError');
});
