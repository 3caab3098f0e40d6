import { randomFillSync } from 'node:crypto';

// Below this size a byte loop beats creating a Uint32Array view.
const WORD_LOOP_THRESHOLD = 32;
const maskBytes = new Uint8Array(4);
const maskWord = new Uint32Array(maskBytes.buffer);

/**
 * XORs `data` in place with the 4-byte masking key (RFC 6455 §5.3), starting at
 * key position `keyOffset`. Large payloads are processed as 32-bit words on the
 * 4-byte-aligned middle part; only the unaligned edges go byte by byte.
 */
export function applyMask(data: Uint8Array, key: Uint8Array, keyOffset = 0): void {
  const length = data.length;
  let i = 0;
  if (length >= WORD_LOOP_THRESHOLD) {
    const head = (4 - (data.byteOffset & 3)) & 3;
    for (; i < head; i++) data[i] ^= key[(i + keyOffset) & 3];
    const words = (length - i) >>> 2;
    for (let k = 0; k < 4; k++) maskBytes[k] = key[(i + keyOffset + k) & 3];
    const word = maskWord[0];
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w] ^= word;
    i += words << 2;
  }
  for (; i < length; i++) data[i] ^= key[(i + keyOffset) & 3];
}

// Masking keys come from a pooled block of CSPRNG output (RFC 6455 §5.3 requires
// unpredictable keys) so that one key costs four bytes, not a syscall.
const KEY_POOL_SIZE = 8192;
const keyPool = Buffer.allocUnsafe(KEY_POOL_SIZE);
let keyPoolOffset = KEY_POOL_SIZE;

/** Returns a fresh random 4-byte masking key (a view valid until the next call). */
export function nextMaskKey(): Buffer {
  if (keyPoolOffset === KEY_POOL_SIZE) {
    randomFillSync(keyPool);
    keyPoolOffset = 0;
  }
  const key = keyPool.subarray(keyPoolOffset, keyPoolOffset + 4);
  keyPoolOffset += 4;
  return key;
}
