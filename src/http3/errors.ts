/**
 * HTTP/3 application error codes (RFC 9114 §8.1) and QPACK's (RFC 9204 §6).
 * They travel in QUIC RESET_STREAM / STOP_SENDING (stream errors) and
 * CONNECTION_CLOSE (connection errors).
 */
export const H3_NO_ERROR = 0x0100;
export const H3_GENERAL_PROTOCOL_ERROR = 0x0101;
export const H3_INTERNAL_ERROR = 0x0102;
export const H3_STREAM_CREATION_ERROR = 0x0103;
export const H3_CLOSED_CRITICAL_STREAM = 0x0104;
export const H3_FRAME_UNEXPECTED = 0x0105;
export const H3_FRAME_ERROR = 0x0106;
export const H3_EXCESSIVE_LOAD = 0x0107;
export const H3_ID_ERROR = 0x0108;
export const H3_SETTINGS_ERROR = 0x0109;
export const H3_MISSING_SETTINGS = 0x010a;
export const H3_REQUEST_REJECTED = 0x010b;
export const H3_REQUEST_CANCELLED = 0x010c;
export const H3_REQUEST_INCOMPLETE = 0x010d;
export const H3_MESSAGE_ERROR = 0x010e;
export const H3_CONNECT_ERROR = 0x010f;
export const H3_VERSION_FALLBACK = 0x0110;
export const QPACK_DECOMPRESSION_FAILED = 0x0200;
export const QPACK_ENCODER_STREAM_ERROR = 0x0201;
export const QPACK_DECODER_STREAM_ERROR = 0x0202;

/** Every defined code by name, e.g. Http3ErrorCode.H3_FRAME_UNEXPECTED === 0x105. */
export const Http3ErrorCode = {
  H3_NO_ERROR,
  H3_GENERAL_PROTOCOL_ERROR,
  H3_INTERNAL_ERROR,
  H3_STREAM_CREATION_ERROR,
  H3_CLOSED_CRITICAL_STREAM,
  H3_FRAME_UNEXPECTED,
  H3_FRAME_ERROR,
  H3_EXCESSIVE_LOAD,
  H3_ID_ERROR,
  H3_SETTINGS_ERROR,
  H3_MISSING_SETTINGS,
  H3_REQUEST_REJECTED,
  H3_REQUEST_CANCELLED,
  H3_REQUEST_INCOMPLETE,
  H3_MESSAGE_ERROR,
  H3_CONNECT_ERROR,
  H3_VERSION_FALLBACK,
  QPACK_DECOMPRESSION_FAILED,
  QPACK_ENCODER_STREAM_ERROR,
  QPACK_DECODER_STREAM_ERROR,
} as const;

const NAMES = new Map<number, string>(Object.entries(Http3ErrorCode).map(([name, code]) => [code, name]));

/** 0x1f * N + 0x21: codes reserved to be greased (RFC 9114 §8.1); a receiver treats them as H3_NO_ERROR (§8). */
export function isReservedErrorCode(code: number): boolean {
  return code >= 0x21 && (code - 0x21) % 0x1f === 0;
}

/** "H3_FRAME_UNEXPECTED (0x105)", or just the hex for codes we do not know. */
export function errorCodeName(code: number): string {
  const name = NAMES.get(code);
  const hex = `0x${code.toString(16)}`;
  return name === undefined ? hex : `${name} (${hex})`;
}

/**
 * Where an error applies (RFC 9114 §8): a connection error closes the whole
 * QUIC connection with `code`; a stream error resets/stops one stream with it.
 */
export type Http3ErrorScope = 'connection' | 'stream';

export class Http3Error extends Error {
  readonly code: number;
  readonly scope: Http3ErrorScope;

  constructor(code: number, scope: Http3ErrorScope, message: string) {
    super(`${message} [${errorCodeName(code)}]`);
    this.name = 'Http3Error';
    this.code = code;
    this.scope = scope;
  }
}

export function connectionError(code: number, message: string): Http3Error {
  return new Http3Error(code, 'connection', message);
}

export function streamError(code: number, message: string): Http3Error {
  return new Http3Error(code, 'stream', message);
}
