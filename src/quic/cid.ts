/**
 * Connection IDs (RFC 9000 §5.1) and the server's table of them.
 *
 * Every connection ID we issue has the same length, so the destination
 * connection ID of a short-header packet (RFC 9000 §17.3), which carries no
 * length, can be read straight from the datagram. The table is keyed by the
 * first 30 bits of the ID — a small integer, so the per-packet lookup
 * allocates nothing (no string key) — with a chain for the rare prefix
 * collision and a full comparison of the bytes.
 */
import { randomFillSync } from 'node:crypto';

/** Length of every connection ID we issue (quiche accepts up to 20). */
export const CID_LEN = 16;

export function randomCid(): Buffer {
  return randomFillSync(Buffer.allocUnsafe(CID_LEN));
}

function prefixKey(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 22) | (buf[offset + 1]! << 14) | (buf[offset + 2]! << 6) | (buf[offset + 3]! >>> 2);
}

interface Entry<T> {
  readonly cid: Uint8Array;
  readonly value: T;
  next: Entry<T> | undefined;
}

export class CidTable<T> {
  private readonly byPrefix = new Map<number, Entry<T>>();
  /** Client-chosen Initial DCIDs (any length, 8+ bytes), consulted only for long-header packets. */
  private readonly aliases = new Map<string, T>();

  /** The value for the connection ID of `len` bytes at `offset` of `buf`. */
  get(buf: Uint8Array, offset: number, len: number): T | undefined {
    if (len < 4 || offset + len > buf.length) return undefined;
    let entry = this.byPrefix.get(prefixKey(buf, offset));
    while (entry !== undefined) {
      const cid = entry.cid;
      if (cid.length === len) {
        let i = 0;
        while (i < len && cid[i] === buf[offset + i]) i++;
        if (i === len) return entry.value;
      }
      entry = entry.next;
    }
    return undefined;
  }

  has(cid: Uint8Array): boolean {
    return this.get(cid, 0, cid.length) !== undefined;
  }

  add(cid: Uint8Array, value: T): void {
    const key = prefixKey(cid, 0);
    this.byPrefix.set(key, { cid, value, next: this.byPrefix.get(key) });
  }

  delete(cid: Uint8Array): void {
    const key = prefixKey(cid, 0);
    let entry = this.byPrefix.get(key);
    let previous: Entry<T> | undefined;
    while (entry !== undefined) {
      if (Buffer.compare(entry.cid, cid) === 0) {
        if (previous === undefined) {
          if (entry.next === undefined) this.byPrefix.delete(key);
          else this.byPrefix.set(key, entry.next);
        } else {
          previous.next = entry.next;
        }
        return;
      }
      previous = entry;
      entry = entry.next;
    }
  }

  /** Whether any alias exists (lookups cost a string key). */
  get hasAliases(): boolean {
    return this.aliases.size > 0;
  }

  getAlias(dcid: Uint8Array): T | undefined {
    return this.aliases.get(Buffer.from(dcid.buffer, dcid.byteOffset, dcid.length).toString('hex'));
  }

  addAlias(dcid: Uint8Array, value: T): void {
    this.aliases.set(Buffer.from(dcid.buffer, dcid.byteOffset, dcid.length).toString('hex'), value);
  }

  deleteAlias(dcid: Uint8Array): void {
    this.aliases.delete(Buffer.from(dcid.buffer, dcid.byteOffset, dcid.length).toString('hex'));
  }
}

/** A new connection ID that no live connection uses. */
export function freshCid(table: CidTable<unknown>): Buffer {
  for (;;) {
    const cid = randomCid();
    if (!table.has(cid)) return cid;
  }
}
