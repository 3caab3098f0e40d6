import type { EventEmitter } from 'node:events';

/**
 * The WHATWG side of the session API (`onmessage`, `addEventListener`, ...)
 * layered over its Node-style EventEmitter events, so that code written for the
 * browser WebSocket runs unchanged. Node 20 has no global CloseEvent, so these
 * small event classes stand in for all four event types.
 */
export class WebSocketEvent {
  readonly type: string;
  target: unknown = null;
  constructor(type: string) {
    this.type = type;
  }
  get currentTarget(): unknown {
    return this.target;
  }
}

/** A message as `onmessage` sees it: text as a string, binary as `binaryType` says. */
export type MessageEventData = string | Buffer | ArrayBuffer | Blob;

export class MessageEvent extends WebSocketEvent {
  readonly data: MessageEventData;
  constructor(data: MessageEventData) {
    super('message');
    this.data = data;
  }
}

export class CloseEvent extends WebSocketEvent {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(code: number, reason: string, wasClean: boolean) {
    super('close');
    this.code = code;
    this.reason = reason;
    this.wasClean = wasClean;
  }
}

export class ErrorEvent extends WebSocketEvent {
  readonly error: unknown;
  readonly message: string;
  constructor(error: unknown) {
    super('error');
    this.error = error;
    this.message = error instanceof Error ? error.message : String(error);
  }
}

/** A WHATWG listener: a function or an object with handleEvent(). */
export type TypedEventListener<E extends WebSocketEvent> = ((event: E) => void) | { handleEvent(event: E): void };
export type EventListenerLike = TypedEventListener<WebSocketEvent>;

/** The WHATWG events of a WebSocket and the event class each one carries. */
export interface WhatwgEventMap {
  open: WebSocketEvent;
  message: MessageEvent;
  close: CloseEvent;
  error: ErrorEvent;
}

/** What the event shim needs from the session to build events. */
export interface EventSource extends EventEmitter {
  readonly wasClean: boolean;
}

const kWrapper = Symbol('trident.eventListener');

/** The Node listener standing for one WHATWG listener, marked so that no other listener is mistaken for one. */
type Wrapper = ((...args: unknown[]) => void) & {
  [kWrapper]: true;
  listener: EventListenerLike;
  attribute: boolean;
};

const WHATWG_TYPES = new Set(['open', 'message', 'close', 'error']);

function toEvent(source: EventSource, type: string, args: unknown[]): WebSocketEvent {
  let event: WebSocketEvent;
  switch (type) {
    case 'message': {
      const [data, isBinary] = args as [Buffer | ArrayBuffer | Blob, boolean];
      event = new MessageEvent(isBinary ? data : String(data));
      break;
    }
    case 'close':
      event = new CloseEvent(args[0] as number, args[1] as string, source.wasClean);
      break;
    case 'error':
      event = new ErrorEvent(args[0]);
      break;
    default:
      event = new WebSocketEvent(type);
  }
  event.target = source;
  return event;
}

function wrap(source: EventSource, type: string, listener: EventListenerLike, attribute: boolean, once: boolean): Wrapper {
  const wrapper = ((...args: unknown[]) => {
    // DOM `once`: removed before it runs. Done here rather than with
    // EventEmitter.once(), so that removeEventListener() still finds it.
    if (once) source.removeListener(type, wrapper);
    const event = toEvent(source, type, args);
    if (typeof listener === 'function') listener.call(source, event);
    else listener.handleEvent(event);
  }) as Wrapper;
  wrapper[kWrapper] = true;
  wrapper.listener = listener;
  wrapper.attribute = attribute;
  return wrapper;
}

function findWrapper(source: EventSource, type: string, match: (wrapper: Wrapper) => boolean): Wrapper | undefined {
  return (source.rawListeners(type) as Array<Partial<Wrapper>>).find(
    (w): w is Wrapper => w[kWrapper] === true && match(w as Wrapper),
  ) as Wrapper | undefined;
}

export function addEventListener(
  source: EventSource,
  type: string,
  listener: EventListenerLike | null,
  options?: { once?: boolean } | boolean,
): void {
  if (listener === null || !WHATWG_TYPES.has(type)) return;
  // DOM semantics: adding the same listener twice has no effect, whatever the options.
  if (findWrapper(source, type, (w) => !w.attribute && w.listener === listener)) return;
  const once = typeof options === 'object' && options.once === true;
  source.on(type, wrap(source, type, listener, false, once));
}

export function removeEventListener(source: EventSource, type: string, listener: EventListenerLike | null): void {
  const wrapper = findWrapper(source, type, (w) => !w.attribute && w.listener === listener);
  if (wrapper) source.removeListener(type, wrapper);
}

export function getAttributeListener(source: EventSource, type: string): EventListenerLike | null {
  return findWrapper(source, type, (w) => w.attribute)?.listener ?? null;
}

export function setAttributeListener(source: EventSource, type: string, listener: EventListenerLike | null): void {
  const previous = findWrapper(source, type, (w) => w.attribute);
  if (previous) source.removeListener(type, previous);
  if (typeof listener === 'function' || (listener !== null && typeof listener === 'object')) {
    source.on(type, wrap(source, type, listener, true, false));
  }
}
