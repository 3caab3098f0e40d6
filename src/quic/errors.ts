/**
 * quiche reports failures as Error objects with code 'GenericFailure' and the
 * quiche error's Debug name as the message, e.g. 'StreamReset(268)',
 * 'StreamStopped(268)', 'InvalidStreamState(4)', 'StreamLimit', 'TlsFail'
 * (measured with @matrixai/quic 2.0.9). These helpers match on that text.
 */
import type { QuicConnectionCloseInfo } from './types.js';

const STREAM_RESET = /^StreamReset\((\d+)\)$/;
const STREAM_STOPPED = /^StreamStopped\((\d+)\)$/;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The application code of a RESET_STREAM the peer sent (RFC 9000 §19.4), or null. */
export function streamResetCode(error: unknown): number | null {
  const match = STREAM_RESET.exec(message(error));
  return match === null ? null : Number(match[1]);
}

/** The application code of a STOP_SENDING the peer sent (RFC 9000 §19.5), or null. */
export function streamStoppedCode(error: unknown): number | null {
  const match = STREAM_STOPPED.exec(message(error));
  return match === null ? null : Number(match[1]);
}

export function isStreamLimit(error: unknown): boolean {
  return message(error) === 'StreamLimit';
}

/** Transport error names (RFC 9000 §20.1). */
const TRANSPORT_ERRORS = [
  'NO_ERROR',
  'INTERNAL_ERROR',
  'CONNECTION_REFUSED',
  'FLOW_CONTROL_ERROR',
  'STREAM_LIMIT_ERROR',
  'STREAM_STATE_ERROR',
  'FINAL_SIZE_ERROR',
  'FRAME_ENCODING_ERROR',
  'TRANSPORT_PARAMETER_ERROR',
  'CONNECTION_ID_LIMIT_ERROR',
  'PROTOCOL_VIOLATION',
  'INVALID_TOKEN',
  'APPLICATION_ERROR',
  'CRYPTO_BUFFER_EXCEEDED',
  'KEY_UPDATE_ERROR',
  'AEAD_LIMIT_REACHED',
  'NO_VIABLE_PATH',
];

/** A few TLS alerts (RFC 8446 §6) seen as CRYPTO_ERROR 0x100 + alert (RFC 9001 §4.8). */
const TLS_ALERTS: Record<number, string> = {
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  48: 'unknown_ca',
  80: 'internal_error',
  109: 'missing_extension',
  112: 'unrecognized_name',
  120: 'no_application_protocol',
};

export const TRANSPORT_ERROR_CONNECTION_REFUSED = 0x2;

export function describeClose(info: QuicConnectionCloseInfo): string {
  if (info.timedOut) return 'idle timeout';
  const who = info.local ? 'closed locally' : 'closed by the peer';
  let what: string;
  if (info.isApp) {
    what = `application error 0x${info.code.toString(16)}`;
  } else if (info.code >= 0x100 && info.code <= 0x1ff) {
    const alert = info.code - 0x100;
    what = `TLS alert ${alert} (${TLS_ALERTS[alert] ?? 'crypto error'})`;
  } else {
    what = `transport error ${TRANSPORT_ERRORS[info.code] ?? 'unknown'} (0x${info.code.toString(16)})`;
  }
  return `${who} with ${what}${info.reason === '' ? '' : `: ${info.reason}`}`;
}

/** A connection that ended before it was established (connectQuic rejects with it), or an operation on a closed one. */
export class QuicConnectionError extends Error {
  override readonly name = 'QuicConnectionError';
  constructor(
    message: string,
    /** How the connection ended, when it did. */
    readonly info: QuicConnectionCloseInfo | null = null,
  ) {
    super(message);
  }
}
