/** A string's header on V8's heap (map, hash, length). */
const STRING_HEADER_BYTES = 16;
/** Matches a string V8 must store as two bytes per character. */
const TWO_BYTE = /[^\x00-\xff]/;

/** Heap bytes of a string: its header, plus one byte per character, two when any character is above U+00FF. */
export function stringBytes(text: string): number {
  return STRING_HEADER_BYTES + (TWO_BYTE.test(text) ? 2 * text.length : text.length);
}
