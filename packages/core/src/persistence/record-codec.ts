import { crc32 } from 'node:zlib';

/**
 * The binary records of the append-only log and the snapshot. Each record is
 * framed as [payload length u32][crc32 of payload u32][payload], so a reader
 * tells a record cut short by a crash (or damaged on disk) from a good one.
 * Binary rather than JSON lines: a value is already JSON text and would
 * otherwise be escaped a second time on every write.
 */

export const RecordType = {
  /** A key's whole state: value, expiry, tags. */
  put: 1,
  /** A key's new expiry. */
  expire: 2,
  delete: 3,
  clear: 4,
  /** First record of a snapshot: which log continues it. */
  snapshotStart: 10,
  /** Last record of a snapshot: how many keys it holds (a snapshot without it is incomplete). */
  snapshotEnd: 11,
} as const;

export type LogRecord =
  | { type: typeof RecordType.put; key: string; value: string | number; expiresAt: number; tags: string[] | undefined }
  | { type: typeof RecordType.expire; key: string; expiresAt: number }
  | { type: typeof RecordType.delete; key: string }
  | { type: typeof RecordType.clear }
  | { type: typeof RecordType.snapshotStart; logSeq: number; createdAt: number }
  | { type: typeof RecordType.snapshotEnd; count: number };

export const FRAME_HEADER_BYTES = 8;
/** Value kinds inside a put record. */
const JSON_TEXT = 0;
const NUMBER = 1;

/** Frame a payload written by `fill` into a buffer of exactly `payloadBytes` after the header. */
function frame(payloadBytes: number, fill: (buffer: Buffer, offset: number) => void): Buffer {
  const buffer = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
  fill(buffer, FRAME_HEADER_BYTES);
  buffer.writeUInt32LE(payloadBytes, 0);
  buffer.writeUInt32LE(crc32(buffer.subarray(FRAME_HEADER_BYTES)), 4);
  return buffer;
}

/** Write a u32-length-prefixed UTF-8 string; returns the next offset. */
function writeString(buffer: Buffer, offset: number, text: string, bytes: number): number {
  buffer.writeUInt32LE(bytes, offset);
  buffer.write(text, offset + 4, bytes, 'utf8');
  return offset + 4 + bytes;
}

export function encodePut(key: string, value: string | number, expiresAt: number, tags: readonly string[] | undefined): Buffer {
  const keyBytes = Buffer.byteLength(key);
  const valueBytes = typeof value === 'number' ? 8 : 4 + Buffer.byteLength(value);
  const tagBytes = tags === undefined ? undefined : tags.map((tag) => Buffer.byteLength(tag));
  let size = 1 + 8 + 4 + keyBytes + 1 + valueBytes + 2;
  if (tagBytes !== undefined) for (const bytes of tagBytes) size += 4 + bytes;
  return frame(size, (buffer, start) => {
    buffer[start] = RecordType.put;
    buffer.writeDoubleLE(expiresAt, start + 1);
    let offset = writeString(buffer, start + 9, key, keyBytes);
    if (typeof value === 'number') {
      buffer[offset] = NUMBER;
      buffer.writeDoubleLE(value, offset + 1);
      offset += 9;
    } else {
      buffer[offset] = JSON_TEXT;
      offset = writeString(buffer, offset + 1, value, valueBytes - 4);
    }
    buffer.writeUInt16LE(tags?.length ?? 0, offset);
    offset += 2;
    if (tags !== undefined) for (let i = 0; i < tags.length; i++) offset = writeString(buffer, offset, tags[i]!, tagBytes![i]!);
  });
}

export function encodeExpire(key: string, expiresAt: number): Buffer {
  const keyBytes = Buffer.byteLength(key);
  return frame(1 + 8 + 4 + keyBytes, (buffer, start) => {
    buffer[start] = RecordType.expire;
    buffer.writeDoubleLE(expiresAt, start + 1);
    writeString(buffer, start + 9, key, keyBytes);
  });
}

export function encodeDelete(key: string): Buffer {
  const keyBytes = Buffer.byteLength(key);
  return frame(1 + 4 + keyBytes, (buffer, start) => {
    buffer[start] = RecordType.delete;
    writeString(buffer, start + 1, key, keyBytes);
  });
}

export function encodeClear(): Buffer {
  return frame(1, (buffer, start) => {
    buffer[start] = RecordType.clear;
  });
}

export function encodeSnapshotStart(logSeq: number, createdAt: number): Buffer {
  return frame(1 + 4 + 8, (buffer, start) => {
    buffer[start] = RecordType.snapshotStart;
    buffer.writeUInt32LE(logSeq, start + 1);
    buffer.writeDoubleLE(createdAt, start + 5);
  });
}

export function encodeSnapshotEnd(count: number): Buffer {
  return frame(1 + 8, (buffer, start) => {
    buffer[start] = RecordType.snapshotEnd;
    buffer.writeDoubleLE(count, start + 1);
  });
}

/** Thrown by `decodeRecord` for a payload whose checksum passed but whose content makes no sense. */
export class MalformedRecord extends Error {}

/** Reads fields from one payload, checking every length against its end. */
class PayloadReader {
  offset = 0;
  constructor(private readonly payload: Buffer) {}

  private need(bytes: number): void {
    if (this.offset + bytes > this.payload.length) throw new MalformedRecord(`a field runs past the end of its record`);
  }
  u8(): number {
    this.need(1);
    return this.payload[this.offset++]!;
  }
  u16(): number {
    this.need(2);
    const value = this.payload.readUInt16LE(this.offset);
    this.offset += 2;
    return value;
  }
  u32(): number {
    this.need(4);
    const value = this.payload.readUInt32LE(this.offset);
    this.offset += 4;
    return value;
  }
  f64(): number {
    this.need(8);
    const value = this.payload.readDoubleLE(this.offset);
    this.offset += 8;
    return value;
  }
  string(): string {
    const bytes = this.u32();
    this.need(bytes);
    const text = this.payload.toString('utf8', this.offset, this.offset + bytes);
    this.offset += bytes;
    return text;
  }
  end(): void {
    if (this.offset !== this.payload.length) throw new MalformedRecord(`${this.payload.length - this.offset} unexpected bytes after the record's fields`);
  }
}

export function decodeRecord(payload: Buffer): LogRecord {
  const reader = new PayloadReader(payload);
  const type = reader.u8();
  let record: LogRecord;
  switch (type) {
    case RecordType.put: {
      const expiresAt = reader.f64();
      const key = reader.string();
      const kind = reader.u8();
      if (kind !== JSON_TEXT && kind !== NUMBER) throw new MalformedRecord(`unknown value kind ${kind}`);
      const value = kind === NUMBER ? reader.f64() : reader.string();
      const tagCount = reader.u16();
      let tags: string[] | undefined;
      if (tagCount > 0) {
        tags = [];
        for (let i = 0; i < tagCount; i++) tags.push(reader.string());
      }
      record = { type, key, value, expiresAt, tags };
      break;
    }
    case RecordType.expire: {
      const expiresAt = reader.f64();
      record = { type, key: reader.string(), expiresAt };
      break;
    }
    case RecordType.delete:
      record = { type, key: reader.string() };
      break;
    case RecordType.clear:
      record = { type };
      break;
    case RecordType.snapshotStart: {
      const logSeq = reader.u32();
      record = { type, logSeq, createdAt: reader.f64() };
      break;
    }
    case RecordType.snapshotEnd:
      record = { type, count: reader.f64() };
      break;
    default:
      throw new MalformedRecord(`unknown record type ${type}`);
  }
  reader.end();
  return record;
}

/** Whether a frame's checksum matches its payload. */
export function checksumMatches(crc: number, payload: Buffer): boolean {
  return crc32(payload) === crc;
}
