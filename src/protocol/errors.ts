/**
 * A peer broke a rule of RFC 6455 / RFC 7692, or a configured limit was exceeded.
 * `closeCode` is the status code the session sends in its close frame;
 * `code` is a stable identifier for logs and tests.
 */
export class ProtocolError extends Error {
  readonly code: string;
  readonly closeCode: number;

  constructor(closeCode: number, code: string, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.closeCode = closeCode;
  }
}
