/**
 * The in-page half of the browser interop tests (Chromium and Firefox): a
 * function serialized into the page as source text, so it must stay
 * self-contained (no imports, no module-scope names).
 */

// Browser globals used inside the page; the project compiles without the DOM
// lib, so they are declared here, scoped to this module.
declare const location: { href: string; origin: string };
interface CloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

export interface EchoArgs {
  url: string;
  texts: string[];
  binarySize: number;
  closeReason: string;
  timeoutMs: number;
}

export interface EchoReport {
  /** The page that opened the WebSocket. */
  pageUrl: string;
  url: string;
  pageOrigin: string;
  extensions: string;
  protocol: string;
  texts: Array<{ sentLength: number; type: string; equal: boolean; receivedLength: number }>;
  binary: { isArrayBuffer: boolean; sentLength: number; receivedLength: number; firstMismatch: number };
  close: { code: number; reason: string; wasClean: boolean; readyState: number };
}

/**
 * Runs inside the page: opens a WebSocket, sends each text and one random
 * binary message, compares every echo byte for byte, then closes with 1000.
 */
export async function echoInPage({ url, texts, binarySize, closeReason, timeoutMs }: EchoArgs): Promise<EchoReport> {
  const deadline = <T,>(promise: Promise<T>, what: string): Promise<T> =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`in page: timeout waiting for ${what}`)), timeoutMs)),
    ]);
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const queue: MessageEvent[] = [];
  let waiter: ((event: MessageEvent) => void) | null = null;
  ws.onmessage = (event) => {
    if (waiter) {
      const w = waiter;
      waiter = null;
      w(event);
    } else queue.push(event);
  };
  const next = (what: string): Promise<MessageEvent> =>
    deadline(
      new Promise<MessageEvent>((resolve) => {
        const queued = queue.shift();
        if (queued) resolve(queued);
        else waiter = resolve;
      }),
      what,
    );
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener('close', resolve));
  await deadline(
    new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`in page: WebSocket error while opening ${url}`));
    }),
    'open',
  );

  const textResults: EchoReport['texts'] = [];
  for (const text of texts) {
    ws.send(text);
    const event = await next('text echo');
    textResults.push({
      sentLength: text.length,
      type: typeof event.data,
      equal: event.data === text,
      receivedLength: typeof event.data === 'string' ? event.data.length : -1,
    });
  }

  // Random bytes do not compress, so even with permessage-deflate the frame
  // stays above 65,535 bytes and needs the 64-bit length.
  const bytes = new Uint8Array(binarySize);
  for (let offset = 0; offset < bytes.length; offset += 65_536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(offset + 65_536, bytes.length)));
  }
  ws.send(bytes.buffer);
  const event = await next('binary echo');
  const isArrayBuffer = event.data instanceof ArrayBuffer;
  const received = isArrayBuffer ? new Uint8Array(event.data as ArrayBuffer) : new Uint8Array(0);
  let firstMismatch = received.length === bytes.length ? -1 : Math.min(received.length, bytes.length);
  for (let i = 0; i < Math.min(received.length, bytes.length); i++) {
    if (received[i] !== bytes[i]) {
      firstMismatch = i;
      break;
    }
  }

  ws.close(1000, closeReason);
  const closeEvent = await deadline(closed, 'close event');
  return {
    pageUrl: location.href,
    url: ws.url,
    pageOrigin: location.origin,
    extensions: ws.extensions,
    protocol: ws.protocol,
    texts: textResults,
    binary: { isArrayBuffer, sentLength: bytes.length, receivedLength: received.length, firstMismatch },
    close: { code: closeEvent.code, reason: closeEvent.reason, wasClean: closeEvent.wasClean, readyState: ws.readyState },
  };
}
