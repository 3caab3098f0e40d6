/**
 * The SETTINGS frame's payload (RFC 9114 §7.2.4): a list of (identifier,
 * value) pairs, both varints. Sent once, first on each control stream.
 */
import { H3_FRAME_ERROR, H3_SETTINGS_ERROR, connectionError } from './errors.js';
import { decodeVarintBigInt, encodeVarint } from './varint.js';

export const SettingId = {
  /** RFC 9204 §5; default 0. */
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  /** RFC 9114 §7.2.4.1; default unlimited. */
  MAX_FIELD_SECTION_SIZE: 0x06,
  /** RFC 9204 §5; default 0. */
  QPACK_BLOCKED_STREAMS: 0x07,
  /** RFC 8441 §3 as registered for HTTP/3 by RFC 9220 §3; 0 or 1, default 0. */
  ENABLE_CONNECT_PROTOCOL: 0x08,
  /** RFC 9297 §2.1.1; 0 or 1, default 0. */
  H3_DATAGRAM: 0x33,
} as const;

/**
 * HTTP/2 settings with no HTTP/3 counterpart (ENABLE_PUSH, MAX_CONCURRENT_STREAMS,
 * INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE): "their receipt MUST be treated as a
 * connection error of type H3_SETTINGS_ERROR" (RFC 9114 §7.2.4.1, Appendix A.3).
 * 0x00 is also reserved in the registry but was never an HTTP/2 setting, so the
 * rule does not cover it; it is ignored like any identifier we do not know.
 */
const HTTP2_ONLY_SETTINGS = new Set([0x02, 0x03, 0x04, 0x05]);

export interface Http3Settings {
  qpackMaxTableCapacity: number;
  /** Infinity when the peer did not send the setting (its default is unlimited). */
  maxFieldSectionSize: number;
  qpackBlockedStreams: number;
  enableConnectProtocol: boolean;
  h3Datagram: boolean;
  /** Settings we do not interpret (including grease), in arrival order; values above 2^53-1 are rounded. */
  unknown: Array<[number, number]>;
}

export function defaultSettings(): Http3Settings {
  return {
    qpackMaxTableCapacity: 0,
    maxFieldSectionSize: Infinity,
    qpackBlockedStreams: 0,
    enableConnectProtocol: false,
    h3Datagram: false,
    unknown: [],
  };
}

/** 0x1f * N + 0x21: identifiers reserved to be ignored (RFC 9114 §7.2.4.1). */
export function isReservedSettingId(id: number | bigint): boolean {
  const big = BigInt(id);
  return big >= 0x21n && (big - 0x21n) % 0x1fn === 0n;
}

function booleanSetting(name: string, value: bigint): boolean {
  // RFC 8441 §3 / RFC 9297 §2.1.1: the value MUST be 0 or 1; anything else is an
  // error in the SETTINGS payload, i.e. H3_SETTINGS_ERROR (RFC 9114 §8.1).
  if (value !== 0n && value !== 1n) throw connectionError(H3_SETTINGS_ERROR, `${name} must be 0 or 1, got ${value}`);
  return value === 1n;
}

/** Decodes a SETTINGS payload; throws connection errors as RFC 9114 §7.2.4 says. */
export function decodeSettings(payload: Uint8Array): Http3Settings {
  const settings = defaultSettings();
  const seen = new Set<bigint>();
  let offset = 0;
  while (offset < payload.length) {
    const id = decodeVarintBigInt(payload, offset);
    const value = id === null ? null : decodeVarintBigInt(payload, offset + id.length);
    if (id === null || value === null) {
      // §7.1: a payload that ends inside a field is H3_FRAME_ERROR.
      throw connectionError(H3_FRAME_ERROR, 'SETTINGS payload ends inside a setting');
    }
    offset += id.length + value.length;
    // §7.2.4: "A receiver MAY treat the presence of duplicate setting identifiers
    // as a connection error of type H3_SETTINGS_ERROR" — we do.
    if (seen.has(id.value)) throw connectionError(H3_SETTINGS_ERROR, `duplicate setting 0x${id.value.toString(16)}`);
    seen.add(id.value);
    const n = Number(id.value);
    if (HTTP2_ONLY_SETTINGS.has(n)) {
      throw connectionError(H3_SETTINGS_ERROR, `HTTP/2 setting 0x${n.toString(16)} is not allowed in HTTP/3`);
    }
    switch (n) {
      case SettingId.QPACK_MAX_TABLE_CAPACITY:
        settings.qpackMaxTableCapacity = Number(value.value);
        break;
      case SettingId.MAX_FIELD_SECTION_SIZE:
        settings.maxFieldSectionSize = Number(value.value);
        break;
      case SettingId.QPACK_BLOCKED_STREAMS:
        settings.qpackBlockedStreams = Number(value.value);
        break;
      case SettingId.ENABLE_CONNECT_PROTOCOL:
        settings.enableConnectProtocol = booleanSetting('SETTINGS_ENABLE_CONNECT_PROTOCOL', value.value);
        break;
      case SettingId.H3_DATAGRAM:
        settings.h3Datagram = booleanSetting('SETTINGS_H3_DATAGRAM', value.value);
        break;
      default:
        // §7.2.4: "An implementation MUST ignore any parameter with an identifier
        // it does not understand"; reserved (grease) ids have no meaning either.
        settings.unknown.push([n, Number(value.value)]);
    }
  }
  return settings;
}

export interface LocalSettings {
  qpackMaxTableCapacity?: number;
  qpackBlockedStreams?: number;
  /** Omitted (unlimited) when undefined or Infinity. */
  maxFieldSectionSize?: number;
  enableConnectProtocol?: boolean;
  h3Datagram?: boolean;
  /**
   * Adds one reserved setting with a random identifier and value: "Endpoints
   * SHOULD include at least one such setting" (RFC 9114 §7.2.4.1). Default true.
   */
  grease?: boolean;
  /** Extra raw settings (tests use this to send what a peer should not). */
  extra?: Array<[number | bigint, number | bigint]>;
}

/** A random reserved identifier 0x1f * N + 0x21 that still fits a 4-byte varint. */
export function randomReservedId(): number {
  const n = Math.floor(Math.random() * 0x100000);
  return 0x1f * n + 0x21;
}

/** Encodes a SETTINGS payload. Settings at their default value are still sent when given, except QPACK zeros. */
export function encodeSettings(local: LocalSettings): Buffer {
  const parts: Buffer[] = [];
  const put = (id: number | bigint, value: number | bigint): void => {
    parts.push(encodeVarint(id), encodeVarint(value));
  };
  // QPACK settings default to 0 (RFC 9204 §5); sending 0 would only spend bytes.
  if (local.qpackMaxTableCapacity) put(SettingId.QPACK_MAX_TABLE_CAPACITY, local.qpackMaxTableCapacity);
  if (local.qpackBlockedStreams) put(SettingId.QPACK_BLOCKED_STREAMS, local.qpackBlockedStreams);
  if (local.maxFieldSectionSize !== undefined && Number.isFinite(local.maxFieldSectionSize)) {
    put(SettingId.MAX_FIELD_SECTION_SIZE, local.maxFieldSectionSize);
  }
  if (local.enableConnectProtocol) put(SettingId.ENABLE_CONNECT_PROTOCOL, 1);
  if (local.h3Datagram) put(SettingId.H3_DATAGRAM, 1);
  if (local.grease ?? true) put(randomReservedId(), Math.floor(Math.random() * 0x3fffffff));
  for (const [id, value] of local.extra ?? []) put(id, value);
  return Buffer.concat(parts);
}
