/** How to start each independent peer program under test/interop/peers/. */
import { join } from 'node:path';
import type { Test } from 'tap';
import { ROOT } from '../binary.js';
import { certFiles } from './certs.js';
import { freePort, startPeer, waitForListening, type PeerProcess } from './peer-process.js';

export const PEERS_DIR = join(ROOT, 'test', 'interop', 'peers');
/** Debian's interpreter: the python3 first on PATH may be another build that does not see python3-websockets. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** A python agent as the client of `url`, opening the two connections every cell uses. */
export function pythonClient(t: Test, script: 'websockets_agent.py' | 'autobahn_agent.py', url: string, deflate: string): PeerProcess {
  const role = script === 'websockets_agent.py' ? ['client'] : [];
  return startPeer(t, DEBIAN_PYTHON, [join(PEERS_DIR, 'python', script), ...role, url, '--connections', '2', '--deflate', deflate, '--ca', certFiles().caFile]);
}

/** python-websockets as an HTTP/1.1 server on 127.0.0.1; resolves once it listens. */
export async function pythonServer(t: Test, deflate: string, tls = false): Promise<{ port: number; agent: PeerProcess }> {
  const { certFile, keyFile } = certFiles();
  const tlsArgs = tls ? ['--tls', certFile, keyFile] : [];
  const agent = startPeer(t, DEBIAN_PYTHON, [join(PEERS_DIR, 'python', 'websockets_agent.py'), 'server', '--deflate', deflate, ...tlsArgs]);
  const [, port] = await agent.waitForLine(/^READY (\d+)$/);
  return { port: Number(port), agent };
}

/**
 * nghttpx (nghttp2-proxy) in one process (--single-process, so the PID we end
 * is the whole proxy), no config file, errors on stderr; resolves with its
 * frontend port once it accepts connections.
 */
export async function nghttpx(t: Test, frontend: string, backend: string, extra: string[] = []): Promise<number> {
  const port = await freePort();
  const args = [
    '--conf=/dev/null',
    '--single-process',
    `--frontend=127.0.0.1,${port}${frontend}`,
    `--backend=${backend}`,
    '--errorlog-file=/dev/stderr',
    '--accesslog-file=/dev/null',
    '--log-level=WARN',
    '--no-ocsp',
    ...extra,
  ];
  const proxy = startPeer(t, 'nghttpx', args);
  await Promise.race([waitForListening(port), proxy.exited().then(() => Promise.reject(new Error(`nghttpx exited: ${proxy.stderr()}`)))]);
  return port;
}

/**
 * haproxy in the foreground (-db) with one of the configs in
 * test/interop/peers/haproxy/, filled from environment variables; resolves
 * with its frontend port once it accepts connections.
 */
export async function haproxy(t: Test, config: 'h2-client.cfg' | 'h2-server.cfg', env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const proxy = startPeer(t, 'haproxy', ['-db', '-f', join(PEERS_DIR, 'haproxy', config)], { ...env, FRONT_PORT: String(port) });
  await Promise.race([waitForListening(port), proxy.exited().then(() => Promise.reject(new Error(`haproxy exited: ${proxy.stderr()}`)))]);
  return port;
}
