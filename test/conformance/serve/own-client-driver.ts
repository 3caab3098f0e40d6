/**
 * An Autobahn client driver written with this project's client: what a user
 * of `trident test --serve` would write. Echoes every message with its type.
 */
import { WebSocket } from '../../../src/index.js';

export interface DriverOptions {
  base: string;
  agent: string;
  transport: 'h1' | 'h2' | 'h3';
  ca?: Buffer;
  /** Offer permessage-deflate (categories 12 and 13); off by default, as in the other categories' runs. */
  deflate?: boolean;
}

function open(url: string, o: DriverOptions): WebSocket {
  // Autobahn 9.3.1 and 9.4.1 send a message in 65536 fragments, above the default limit of 16384.
  const ws = new WebSocket(url, { transport: o.transport, ...(o.ca ? { ca: o.ca } : {}), perMessageDeflate: o.deflate === true, maxFramesPerMessage: 65536 });
  ws.binaryType = 'nodebuffer';
  return ws;
}

/** Opens `path`, echoes until closed; resolves with the first text message received (if any). */
export function visit(path: string, o: DriverOptions, echo: boolean): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const ws = open(o.base + path, o);
    let first: string | undefined;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (first === undefined && !isBinary) first = data.toString('utf8');
      if (echo) ws.send(data, { binary: isBinary });
    });
    ws.on('error', () => {}); // the cases provoke errors on purpose; 'close' follows
    ws.on('close', () => resolve(first));
    ws.on('unexpected-response', () => reject(new Error(`handshake refused for ${path}`)));
  });
}

/** The whole Autobahn driver loop: count, every case, reports. */
export async function driveAll(o: DriverOptions): Promise<number> {
  const count = Number(await visit('/getCaseCount', o, false));
  const agent = encodeURIComponent(o.agent);
  for (let i = 1; i <= count; i++) await visit(`/runCase?case=${i}&agent=${agent}`, o, true);
  await visit(`/updateReports?agent=${agent}`, o, false);
  return count;
}
