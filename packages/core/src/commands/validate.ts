import sjson from 'secure-json-parse';
import type { Command, GetCommand, Json, JsonObject, Op } from './commands';
import { OPS } from './commands';
import { describe, lixError, prototypePropertyError } from './errors';
import type { Limits } from './limits';
import { DEFAULT_LIMITS } from './limits';

/**
 * Validation of commands, written once and used by the server (on every
 * request) and by the SDK (before anything leaves the process). Each check
 * throws a registered LixError whose message says how to fix the input.
 */

const FIELDS: Record<Op, readonly string[]> = {
  get: ['op', 'key', 'touch', 'withTags'],
  set: ['op', 'key', 'value', 'ttl', 'nx', 'xx', 'tags'],
  merge: ['op', 'key', 'value', 'ttl'],
  delete: ['op', 'key'],
  exists: ['op', 'key'],
  incr: ['op', 'key', 'amount', 'ttl'],
  decr: ['op', 'key', 'amount', 'ttl'],
  expire: ['op', 'key', 'ttl'],
  scan: ['op', 'prefix', 'tag', 'cursor', 'limit', 'keysOnly'],
  invalidate: ['op', 'tag'],
  clear: ['op'],
};
const FIELD_SETS = Object.fromEntries(OPS.map((op) => [op, new Set(FIELDS[op])])) as Record<Op, Set<string>>;

/** Keys that would poison a plain object's prototype in a JavaScript client. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The server's body parser settings (packages/server/src/app.ts): both rules refuse rather than strip. */
const PROTOTYPE_RULES = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * Refuse JSON text that the server's body parser refuses (an own "__proto__" key, or a
 * "constructor" object with an own "prototype"), with the server's code and message, so
 * memory://, redis:// and http:// accept the same values. JSON.stringify writes these
 * names unescaped, so a plain search clears almost every value without parsing it.
 */
export function checkPrototypeProperties(json: string): void {
  if (!json.includes('"__proto__"') && !json.includes('"constructor"')) return;
  try {
    sjson.parse(json, undefined, PROTOTYPE_RULES);
  } catch {
    throw prototypePropertyError();
  }
}

/** Bytes of UTF-8 in a string, without allocating (and without Buffer, so it runs in browsers too). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff) i++, (bytes += 2); // surrogate pair: 4 bytes for 2 units
    else bytes += 2;
  }
  return bytes;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function validateKey(key: unknown, limits: Limits = DEFAULT_LIMITS, field = 'key'): string {
  if (typeof key !== 'string') {
    throw lixError('invalid_key', key === undefined ? `"${field}" is missing.` : `"${field}" must be a string; got ${describe(key)}.`);
  }
  if (key.length === 0) throw lixError('invalid_key', `"${field}" is empty.`);
  // Cheap length bound first: a UTF-16 unit is at most 3 bytes of UTF-8.
  if (key.length * 3 > limits.maxKeyBytes) {
    const bytes = utf8Length(key);
    if (bytes > limits.maxKeyBytes) throw lixError('key_too_long', bytes, limits.maxKeyBytes);
  }
  if (RESERVED_KEYS.has(key)) throw lixError('reserved_key', key);
  return key;
}

/** A TTL in seconds: 0 means none. `null`/`undefined` mean absent. */
export function validateTtl(ttl: unknown, limits: Limits = DEFAULT_LIMITS, field = 'ttl'): number | undefined {
  if (ttl === undefined || ttl === null) return undefined;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0 || ttl > limits.maxTtl) {
    throw lixError('invalid_ttl', field, describe(ttl), limits.maxTtl);
  }
  return ttl;
}

export function validateTags(tags: unknown, limits: Limits = DEFAULT_LIMITS): string[] | undefined {
  if (tags === undefined || tags === null) return undefined;
  if (!Array.isArray(tags)) throw lixError('invalid_tags', `"tags" must be an array of strings; got ${describe(tags)}.`);
  if (tags.length > limits.maxTags) throw lixError('too_many_tags', tags.length, limits.maxTags);
  for (const tag of tags) validateTag(tag, limits, 'each tag');
  return tags.length > 1 ? [...new Set(tags as string[])] : (tags as string[]);
}

function validateTag(tag: unknown, limits: Limits, field = 'tag'): string {
  if (typeof tag !== 'string' || tag.length === 0) {
    throw lixError('invalid_tags', `${field === 'tag' ? '"tag"' : field} must be a non-empty string; got ${describe(tag)}.`);
  }
  if (tag.length * 3 > limits.maxKeyBytes && utf8Length(tag) > limits.maxKeyBytes) {
    throw lixError('invalid_tags', `A tag is longer than ${limits.maxKeyBytes} bytes.`);
  }
  return tag;
}

function optionalBoolean(value: unknown, field: string, op: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw lixError('invalid_command', `"${field}" of ${op} must be true or false; got ${describe(value)}.`);
  return value;
}

function optionalString(value: unknown, field: string, op: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw lixError('invalid_scan', `"${field}" of ${op} must be a string; got ${describe(value)}.`);
  return value;
}

/**
 * Check an untrusted command (a parsed JSON object, or an SDK user's input)
 * and return a clean Command holding only known fields.
 */
export function parseCommand(input: unknown, limits: Limits = DEFAULT_LIMITS): Command {
  if (!isPlainObject(input)) {
    throw lixError('invalid_command', `A command must be an object such as {"op":"get","key":"user:1"}; got ${describe(input)}.`);
  }
  if (typeof input.op !== 'string' || !Object.hasOwn(FIELDS, input.op)) {
    throw lixError('unknown_op', input.op === undefined ? '(missing "op")' : describe(input.op), OPS.join(', '));
  }
  const op = input.op as Op;
  const allowed = FIELD_SETS[op];
  for (const field in input) {
    if (!allowed.has(field)) {
      throw lixError('invalid_command', `Unknown field "${field}" in a ${op} command. Its fields are: ${FIELDS[op].join(', ')}.`);
    }
  }

  switch (op) {
    case 'get': {
      const touch = validateTtl(input.touch, limits, 'touch');
      const key = validateKey(input.key, limits);
      const command: GetCommand = touch === undefined ? { op: 'get', key } : { op: 'get', key, touch };
      if (optionalBoolean(input.withTags, 'withTags', 'get')) command.withTags = true;
      return command;
    }
    case 'set': {
      const key = validateKey(input.key, limits);
      if (!('value' in input) || input.value === undefined) {
        throw lixError('invalid_value', `"value" is missing from set "${key}". Send any JSON value; use delete to remove a key.`);
      }
      const ttl = validateTtl(input.ttl, limits);
      const nx = optionalBoolean(input.nx, 'nx', 'set');
      const xx = optionalBoolean(input.xx, 'xx', 'set');
      if (nx && xx) throw lixError('invalid_command', `set "${key}" has both nx and xx; use nx to write only if absent, or xx only if present.`);
      const tags = validateTags(input.tags, limits);
      const command: Command = { op: 'set', key, value: input.value as Json };
      if (ttl !== undefined) command.ttl = ttl;
      if (nx) command.nx = true;
      if (xx) command.xx = true;
      if (tags !== undefined) command.tags = tags;
      return command;
    }
    case 'merge': {
      const key = validateKey(input.key, limits);
      if (!isPlainObject(input.value)) {
        throw lixError('invalid_value', `"value" of merge "${key}" must be a JSON object of the fields to change; got ${describe(input.value)}.`);
      }
      // The patch is checked here, not its merged result, so a merge into a value stored before this rule still works.
      try {
        sjson.scan(input.value, PROTOTYPE_RULES);
      } catch {
        throw prototypePropertyError();
      }
      const ttl = validateTtl(input.ttl, limits);
      return ttl === undefined ? { op: 'merge', key, value: input.value as JsonObject } : { op: 'merge', key, value: input.value as JsonObject, ttl };
    }
    case 'incr':
    case 'decr': {
      const key = validateKey(input.key, limits);
      let amount = input.amount;
      if (amount === undefined || amount === null) amount = 1;
      else if (typeof amount !== 'number' || !Number.isFinite(amount)) throw lixError('invalid_amount', describe(amount));
      const ttl = validateTtl(input.ttl, limits);
      return ttl === undefined ? { op, key, amount: amount as number } : { op, key, amount: amount as number, ttl };
    }
    case 'expire': {
      const key = validateKey(input.key, limits);
      if (input.ttl === undefined || input.ttl === null) throw lixError('invalid_ttl', 'ttl', 'nothing', limits.maxTtl);
      return { op: 'expire', key, ttl: validateTtl(input.ttl, limits) as number };
    }
    case 'delete':
    case 'exists':
      return { op, key: validateKey(input.key, limits) };
    case 'scan': {
      const prefix = optionalString(input.prefix, 'prefix', 'scan');
      const tag = input.tag === undefined || input.tag === null ? undefined : validateTag(input.tag, limits);
      const cursor = optionalString(input.cursor, 'cursor', 'scan');
      const keysOnly = optionalBoolean(input.keysOnly, 'keysOnly', 'scan');
      let limit = input.limit;
      if (limit !== undefined && limit !== null) {
        if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > limits.maxScanLimit) {
          throw lixError('invalid_scan', `"limit" of scan must be a whole number from 1 to ${limits.maxScanLimit}; got ${describe(limit)}.`);
        }
      } else limit = undefined;
      const command: Command = { op: 'scan' };
      if (prefix) command.prefix = prefix;
      if (tag !== undefined) command.tag = tag;
      if (cursor) command.cursor = cursor;
      if (limit !== undefined) command.limit = limit as number;
      if (keysOnly) command.keysOnly = true;
      return command;
    }
    case 'invalidate':
      return { op: 'invalidate', tag: validateTag(input.tag, limits) };
    case 'clear':
      return { op: 'clear' };
  }
}

/**
 * Serialize a value for storage and enforce the value size limit and the
 * prototype-property rule (see checkPrototypeProperties). Engines call this once
 * per write, so the checks cost no second serialization. `checkPrototype` is false
 * only for a merged value, whose patch parseCommand already checked.
 */
export function encodeValue(value: unknown, limits: Limits = DEFAULT_LIMITS, checkPrototype = true): string {
  let raw: string | undefined;
  try {
    raw = JSON.stringify(value);
  } catch (error) {
    throw lixError('invalid_value', `The value cannot be stored as JSON: ${(error as Error).message}. Store plain data (objects, arrays, strings, numbers, booleans, null).`);
  }
  if (raw === undefined) {
    throw lixError('invalid_value', `The value cannot be stored as JSON (got ${typeof value}). Store plain data (objects, arrays, strings, numbers, booleans, null).`);
  }
  // Cheap bound first: a UTF-16 unit is at most 3 bytes of UTF-8.
  if (raw.length * 3 > limits.maxValueBytes) {
    const bytes = utf8Length(raw);
    if (bytes > limits.maxValueBytes) throw lixError('value_too_large', bytes, limits.maxValueBytes);
  }
  if (checkPrototype) checkPrototypeProperties(raw);
  return raw;
}
