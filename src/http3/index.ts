/**
 * HTTP/3 (RFC 9114) with static-only QPACK (RFC 9204) over the QUIC
 * interfaces of ./quic/types.ts — what the RFC 9220 front-end builds on.
 */
export { Http3Session, StreamType, MAX_GOAWAY_STREAM_ID, type Http3SessionOptions, type AdvertisedSettings } from './session.js';
export { Http3RequestStream, type Http3Role } from './request-stream.js';
export * from './errors.js';
export { type Http3Settings, type LocalSettings, SettingId, decodeSettings, encodeSettings, defaultSettings } from './settings.js';
export {
  type HeaderList,
  CONNECTION_SPECIFIC_FIELDS,
  checkRequestHeaders,
  checkResponseHeaders,
  checkTrailers,
  headerValue,
} from './fields.js';
export {
  FrameParser,
  FrameType,
  type Frame,
  type FrameHandler,
  type FrameParserOptions,
  encodeFrame,
  encodeFrameHeader,
  encodeDataFrame,
  encodeHeadersFrame,
  encodeSettingsFrame,
  encodeGoawayFrame,
  encodeCancelPushFrame,
  encodeMaxPushIdFrame,
  encodePushPromiseFrame,
  isReservedFrameType,
} from './frames.js';
export { encodeVarint, decodeVarint, decodeVarintBigInt, varintLength, VARINT_MAX } from './varint.js';
export { encodeFieldSection, fieldSectionSize, type FieldLine } from './qpack/encoder.js';
export { decodeFieldSection, FieldSectionTooLargeError } from './qpack/decoder.js';
export type { QuicConnection, QuicStream, QuicServer, QuicConnectionCloseInfo } from '../quic/types.js';
