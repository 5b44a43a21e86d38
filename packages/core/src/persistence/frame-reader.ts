import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FRAME_HEADER_BYTES, checksumMatches } from './record-codec';

/** Where a file stops making sense, and whether intact records follow (then it is damage, not a cut-short write). */
export interface BadFrame {
  offset: number;
  reason: string;
  /** Intact records follow the bad one: the file is damaged in the middle, not cut short at its end. */
  intactAfter: boolean;
}

export interface ReadResult {
  /** File size in bytes. */
  size: number;
  /** Frames read and handed on. */
  frames: number;
  /** The first frame that failed its checks, if any; reading stops there. */
  bad: BadFrame | undefined;
}

const CHUNK = 4 * 1024 * 1024;

/**
 * Read a framed file (its magic, then [length][crc32][payload] frames)
 * chunk by chunk, handing each checked payload to `onPayload`. Stops at the
 * first frame that is cut short or fails its checksum, and reports whether
 * anything intact follows it, so the caller can tell a torn last write
 * (drop it) from damage in the middle (refuse to start).
 */
export function readFrames(path: string, magic: Buffer, onPayload: (payload: Buffer, offset: number) => void): ReadResult {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 64)));
    let bufferStart = 0;
    let bufferEnd = 0;
    /** Make file bytes [offset, offset + bytes) readable in `buffer`; false when they run past the end of the file. */
    const ensure = (offset: number, bytes: number): boolean => {
      if (offset + bytes > size) return false;
      if (offset + bytes <= bufferEnd) return true;
      const kept = bufferEnd - offset;
      if (bytes > buffer.length) {
        const grown = Buffer.allocUnsafe(Math.max(bytes, buffer.length * 2));
        buffer.copy(grown, 0, offset - bufferStart, bufferEnd - bufferStart);
        buffer = grown;
      } else {
        buffer.copy(buffer, 0, offset - bufferStart, bufferEnd - bufferStart);
      }
      bufferStart = offset;
      bufferEnd = offset + kept;
      while (bufferEnd < offset + bytes) {
        const read = readSync(fd, buffer, bufferEnd - bufferStart, Math.min(buffer.length - (bufferEnd - bufferStart), size - bufferEnd), bufferEnd);
        if (read === 0) return false;
        bufferEnd += read;
      }
      return true;
    };
    const at = (offset: number): number => offset - bufferStart;

    if (!ensure(0, magic.length)) return { size, frames: 0, bad: { offset: 0, reason: `the file is ${size} bytes, shorter than its ${magic.length}-byte header`, intactAfter: false } };
    if (!buffer.subarray(at(0), at(magic.length)).equals(magic)) {
      return { size, frames: 0, bad: { offset: 0, reason: `it does not start with "${magic.toString('latin1').trim()}", so it is not a Lix Cache file of this kind or version`, intactAfter: true } };
    }
    let offset = magic.length;
    let frames = 0;
    while (offset < size) {
      let reason: string | undefined;
      if (!ensure(offset, FRAME_HEADER_BYTES)) reason = `a record header is cut short (${size - offset} bytes left)`;
      else {
        const length = buffer.readUInt32LE(at(offset));
        const crc = buffer.readUInt32LE(at(offset) + 4);
        if (length === 0) reason = 'a record claims to be empty';
        else if (!ensure(offset + FRAME_HEADER_BYTES, length)) reason = `a record of ${length} bytes is cut short (${size - offset - FRAME_HEADER_BYTES} bytes left)`;
        else {
          const payload = buffer.subarray(at(offset) + FRAME_HEADER_BYTES, at(offset) + FRAME_HEADER_BYTES + length);
          if (!checksumMatches(crc, payload)) reason = `a record of ${length} bytes fails its checksum`;
          else {
            onPayload(payload, offset);
            frames++;
            offset += FRAME_HEADER_BYTES + length;
            continue;
          }
        }
      }
      return { size, frames, bad: { offset, reason, intactAfter: intactFrameAfter(fd, offset, size) } };
    }
    return { size, frames, bad: undefined };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether any intact frame starts after `offset`. A crash cuts a file short
 * only at its end, so a bad frame with an intact one behind it is damage.
 * Runs only on the error path; reads the rest of the file at once.
 */
function intactFrameAfter(fd: number, offset: number, size: number): boolean {
  const rest = Buffer.allocUnsafe(size - offset);
  let filled = 0;
  while (filled < rest.length) {
    const read = readSync(fd, rest, filled, rest.length - filled, offset + filled);
    if (read === 0) break;
    filled += read;
  }
  for (let start = 1; start + FRAME_HEADER_BYTES < filled; start++) {
    const length = rest.readUInt32LE(start);
    if (length === 0 || start + FRAME_HEADER_BYTES + length > filled) continue;
    if (checksumMatches(rest.readUInt32LE(start + 4), rest.subarray(start + FRAME_HEADER_BYTES, start + FRAME_HEADER_BYTES + length))) return true;
  }
  return false;
}
