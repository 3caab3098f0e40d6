/**
 * The binary's shutdown ends whatever happens to its stdout: a reader that
 * went away (a pipe to `head`, a dead log collector) or one that stopped
 * reading must not keep the process alive after SIGTERM, nor after a second
 * SIGTERM. And it ends within the close timeout plus a margin even when the
 * server's own shutdown cannot finish.
 */
import t from 'tap';
import { connect, newKey, readResponseHead, upgradeRequest } from '../helpers/http1.js';
import { makeCerts, startBinary, type RunningBinary } from '../helpers/binary.js';
import { openSilentPeer } from './silent-peer.js';

/** Far beyond what these shutdowns take (no session waits for its close timeout); a hang is killed after it. */
const EXIT_WITHIN_MS = 5000;

let certDir: string;
t.before(async () => {
  certDir = await makeCerts();
});

t.test('stdout reader gone: SIGTERM exits 0', async (t) => {
  const bin = await startBinary([], {}, { certDir });
  t.teardown(() => bin.kill());
  bin.closeStdout();
  // "shutting down" and "server closed" both meet the broken pipe, the second
  // one while the first is still being written.
  t.equal(await bin.stop('SIGTERM', EXIT_WITHIN_MS), 0, 'exit code 0');
  t.equal(bin.stderr(), '', 'nothing on stderr');
});

t.test('stdout reader gone: a second SIGTERM during a held-open shutdown exits 1 at once', async (t) => {
  // The silent peer keeps the first shutdown waiting for 60 s: only the second signal can end it in time.
  const bin = await startBinary(['--close-timeout', '60000'], {}, { certDir });
  t.teardown(() => bin.kill());
  const silent = await openSilentPeer(bin.httpPort);
  t.teardown(() => silent.socket.destroy());

  bin.closeStdout();
  process.kill(bin.pid, 'SIGTERM');
  // Shutdown started: the server sent its close frame (no log line can tell us any more).
  t.equal(await silent.firstFrameByte, 0x88, 'the silent peer got a final Close frame');
  t.equal(await bin.stop('SIGTERM', EXIT_WITHIN_MS), 1, 'the second SIGTERM exits with code 1');
});

/**
 * Stops reading the binary's stdout, then makes it log 800 KiB (each refused
 * handshake logs its 8 KiB path): more than a pipe or socket pair holds, so
 * its writes to stdout stall.
 */
async function stallStdout(bin: RunningBinary): Promise<void> {
  bin.process.stdout!.pause();
  const path = `/${'x'.repeat(8 * 1024)}`;
  for (let i = 0; i < 100; i++) {
    const socket = await connect({ host: '127.0.0.1', port: bin.httpPort }, EXIT_WITHIN_MS);
    socket.write(upgradeRequest({ host: `127.0.0.1:${bin.httpPort}`, key: newKey(), path }));
    const result = await readResponseHead(socket, EXIT_WITHIN_MS);
    socket.destroy();
    if (result.kind !== 'response' || result.head.status !== 404) {
      throw new Error(`refused handshake ${i}: expected 404, got ${result.kind === 'response' ? result.head.status : result.kind}`);
    }
  }
}

t.test('stdout reader stopped reading with the pipe full: SIGTERM still exits 0', async (t) => {
  const bin = await startBinary([], {}, { certDir });
  t.teardown(() => bin.kill());
  await stallStdout(bin);
  t.equal(await bin.stop('SIGTERM', EXIT_WITHIN_MS), 0, 'exit code 0');
});

t.test('stdout reader stopped reading with the pipe full: a second SIGTERM during a held-open shutdown exits 1', async (t) => {
  const bin = await startBinary(['--close-timeout', '60000'], {}, { certDir });
  t.teardown(() => bin.kill());
  const silent = await openSilentPeer(bin.httpPort);
  t.teardown(() => silent.socket.destroy());
  await stallStdout(bin);
  process.kill(bin.pid, 'SIGTERM');
  t.equal(await silent.firstFrameByte, 0x88, 'the silent peer got a final Close frame');
  t.equal(await bin.stop('SIGTERM', EXIT_WITHIN_MS), 1, 'the second SIGTERM exits with code 1');
});

t.test('a connection that never starts TLS holds the listener open: exit 1 after the close timeout + 2 s, with a log line', async (t) => {
  // Without the binary's deadline the listener would close only at the 60 s handshake timeout.
  const bin = await startBinary(['--close-timeout', '1000', '--handshake-timeout', '60000', '--no-http3'], {}, { certDir });
  t.teardown(() => bin.kill());
  const silent = await connect({ host: '127.0.0.1', port: bin.tlsPort }, EXIT_WITHIN_MS);
  t.teardown(() => silent.destroy());
  // Bound: close timeout (1 s) + margin (2 s) + log settling, well under 10 s.
  t.equal(await bin.stop('SIGTERM', 10_000), 1, 'exit code 1');
  t.ok(bin.logs.some((l) => l.msg === 'shutdown did not finish in time: exiting'), 'logged why');
});
