/** What a client-mode case is: the server's writes and the answers it expects (cases.ts, deflate-cases.ts). */
import type { DeflateChoice } from './deflate.js';

export type ReplyKind = 'text' | 'binary' | 'pong';

export interface Reply {
  kind: ReplyKind;
  data: Buffer;
}

/**
 * What the server does next: one write (`chop`: split into writes of that
 * many bytes, one per turn), a pause, one data message framed only when it
 * is sent (9.x: megabytes are not held per case), or a wait for the client's
 * answers (9.7, 9.8: round trips, each message after the previous echo).
 */
export type Step =
  | { bytes: Buffer; chop?: number }
  | { pauseMs: number }
  /** `message` in frames of `fragment` payload bytes (default: one frame), written whole or in chops of `chop` bytes. */
  | { message: Reply; fragment?: number; chop?: number }
  /** Wait until the client has answered `untilReplies` times in all (data messages and pongs), or the case ended. */
  | { untilReplies: number };

export type Expectation =
  /** The client answers with `replies`; then the server closes with 1000 and expects 1000 back. */
  | { by: 'server'; replies: Reply[] }
  /**
   * The client closes (fails the connection, or answers the server's close)
   * with one of `codes` (null: a close frame without a code); `clean`: a
   * close frame is required, a dropped connection fails. `mayCut`: the client
   * may fail before echoing all `replies` (Autobahn's NON-STRICT).
   */
  | { by: 'client'; replies: Reply[]; codes: Array<number | null>; clean?: boolean; mayCut?: boolean };

export interface ServeCase {
  id: string;
  description: string;
  send: Step[];
  expect: Expectation;
  /** Autobahn's INFORMATIONAL cases: observed and reported, never judged. */
  informational?: boolean;
  /** The case's frames include a close: the server's side of the closing handshake is done. */
  serverCloses?: boolean;
  /**
   * The client should fail before the case's last write (fail fast, 6.4.x):
   * failing only after it is NON-STRICT.
   */
  failFast?: boolean;
  /** Performance cases (9.x): the time is reported. */
  timed?: boolean;
  timeoutMs?: number;
  /**
   * Categories 12 and 13: permessage-deflate is accepted with the first of
   * `choices` the client's offer allows (UNIMPLEMENTED without one), and the
   * expected replies are sent compressed, split into frames of `fragment`
   * bytes of compressed data (0: one frame per message).
   */
  deflate?: { choices: DeflateChoice[]; fragment: number };
}
