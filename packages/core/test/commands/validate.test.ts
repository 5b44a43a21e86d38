import { describe, expect, it } from 'vitest';
import { LixError, PROTOTYPE_PROPERTY_MESSAGE } from '../../src/commands/errors';
import { DEFAULT_LIMITS, resolveLimits } from '../../src/commands/limits';
import { checkPrototypeProperties, encodeValue, parseCommand, utf8Length } from '../../src/commands/validate';

/** The LixError `run` throws (failing the test if it throws something else or nothing). */
function thrown(run: () => unknown): LixError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LixError);
    return error as LixError;
  }
  throw new Error('expected a LixError, nothing was thrown');
}

function expectCode(input: unknown, code: string, mentions: RegExp, limits = DEFAULT_LIMITS): LixError {
  const error = thrown(() => parseCommand(input, limits));
  expect(error.code).toBe(code);
  expect(error.message).toMatch(mentions);
  return error;
}

describe('parseCommand', () => {
  it('returns clean commands holding only known, present fields', () => {
    expect(parseCommand({ op: 'get', key: 'a', touch: null })).toStrictEqual({ op: 'get', key: 'a' });
    expect(parseCommand({ op: 'get', key: 'a', withTags: false })).toStrictEqual({ op: 'get', key: 'a' });
    expect(parseCommand({ op: 'get', key: 'a', withTags: true })).toStrictEqual({ op: 'get', key: 'a', withTags: true });
    expect(parseCommand({ op: 'set', key: 'a', value: 0, ttl: null, nx: false, tags: ['t', 't', 'u'] })).toStrictEqual({ op: 'set', key: 'a', value: 0, tags: ['t', 'u'] });
    expect(parseCommand({ op: 'incr', key: 'a' })).toStrictEqual({ op: 'incr', key: 'a', amount: 1 });
    expect(parseCommand({ op: 'scan', prefix: '', limit: null, cursor: null })).toStrictEqual({ op: 'scan' });
    expect(parseCommand({ op: 'expire', key: 'a', ttl: 0 })).toStrictEqual({ op: 'expire', key: 'a', ttl: 0 });
    expect(parseCommand({ op: 'clear' })).toStrictEqual({ op: 'clear' });
  });

  it('invalid_command: not an object, unknown field, bad booleans, nx with xx', () => {
    for (const input of [null, 'get', 42, ['get'], undefined]) expectCode(input, 'invalid_command', /must be an object such as \{"op":"get"/);
    expectCode({ op: 'get', key: 'a', value: 1 }, 'invalid_command', /Unknown field "value".*Its fields are: op, key, touch, withTags/);
    expectCode({ op: 'set', key: 'a', value: 1, nx: 'yes' }, 'invalid_command', /"nx" of set must be true or false/);
    expectCode({ op: 'scan', keysOnly: 1 }, 'invalid_command', /"keysOnly" of scan must be true or false/);
    expectCode({ op: 'get', key: 'a', withTags: 'yes' }, 'invalid_command', /"withTags" of get must be true or false/);
    expectCode({ op: 'set', key: 'a', value: 1, nx: true, xx: true }, 'invalid_command', /both nx and xx; use nx/);
  });

  it('unknown_op lists the ops', () => {
    expectCode({ op: 'fetch', key: 'a' }, 'unknown_op', /Unknown op "fetch"\. Use one of: get, set, merge/);
    expectCode({ key: 'a' }, 'unknown_op', /missing "op"/);
    expectCode({ op: 'toString' }, 'unknown_op', /Use one of/);
  });

  it('invalid_key: missing, not a string, empty', () => {
    expectCode({ op: 'get' }, 'invalid_key', /"key" is missing\. Keys are non-empty strings, e\.g\./);
    expectCode({ op: 'delete', key: 7 }, 'invalid_key', /"key" must be a string; got 7/);
    expectCode({ op: 'exists', key: '' }, 'invalid_key', /"key" is empty/);
  });

  it('reserved_key suggests a prefix', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) expectCode({ op: 'get', key }, 'reserved_key', /Add a prefix/);
  });

  it('key_too_long counts UTF-8 bytes and names the setting', () => {
    expect(parseCommand({ op: 'get', key: 'k'.repeat(1024) })).toMatchObject({ key: 'k'.repeat(1024) });
    expectCode({ op: 'get', key: 'k'.repeat(1025) }, 'key_too_long', /1025 bytes.*limit is 1024.*LIX_MAX_KEY_BYTES/);
    // 342 three-byte characters: 342 units, 1026 bytes.
    expectCode({ op: 'get', key: '日'.repeat(342) }, 'key_too_long', /1026 bytes/);
  });

  it('invalid_value: set without value, merge with a non-object', () => {
    expectCode({ op: 'set', key: 'a' }, 'invalid_value', /"value" is missing.*use delete to remove a key/);
    for (const value of [[1], 'x', null, 3]) expectCode({ op: 'merge', key: 'a', value }, 'invalid_value', /must be a JSON object of the fields to change/);
  });

  it('invalid_ttl: negative, not a number, too long, missing on expire, bad touch', () => {
    expectCode({ op: 'set', key: 'a', value: 1, ttl: -1 }, 'invalid_ttl', /"ttl" must be a number of seconds from 0 \(no expiry\) to 315360000; got -1/);
    expectCode({ op: 'set', key: 'a', value: 1, ttl: '10' }, 'invalid_ttl', /got "10"/);
    expectCode({ op: 'set', key: 'a', value: 1, ttl: DEFAULT_LIMITS.maxTtl + 1 }, 'invalid_ttl', /to 315360000/);
    expectCode({ op: 'expire', key: 'a' }, 'invalid_ttl', /got nothing/);
    expectCode({ op: 'get', key: 'a', touch: -5 }, 'invalid_ttl', /"touch" must be/);
    expectCode({ op: 'incr', key: 'a', ttl: Number.NaN }, 'invalid_ttl', /got NaN/);
  });

  it('invalid_amount', () => {
    expectCode({ op: 'incr', key: 'a', amount: '5' }, 'invalid_amount', /"amount" must be a finite number \(default 1\); got "5"/);
    expectCode({ op: 'decr', key: 'a', amount: Number.POSITIVE_INFINITY }, 'invalid_amount', /got Infinity/);
  });

  it('invalid_tags and too_many_tags', () => {
    expectCode({ op: 'set', key: 'a', value: 1, tags: 'user:1' }, 'invalid_tags', /must be an array of strings.*e\.g\. \["user:42"\]/);
    expectCode({ op: 'set', key: 'a', value: 1, tags: ['ok', ''] }, 'invalid_tags', /each tag must be a non-empty string/);
    expectCode({ op: 'set', key: 'a', value: 1, tags: [5] }, 'invalid_tags', /got 5/);
    expectCode({ op: 'invalidate' }, 'invalid_tags', /"tag" must be a non-empty string/);
    expectCode({ op: 'scan', tag: 'x'.repeat(2000) }, 'invalid_tags', /longer than 1024 bytes/);
    const tags = Array.from({ length: 33 }, (_, i) => `t${i}`);
    expectCode({ op: 'set', key: 'a', value: 1, tags }, 'too_many_tags', /at most 32 tags; this one has 33.*LIX_MAX_TAGS/);
  });

  it('invalid_scan: limit, prefix and cursor types', () => {
    for (const limit of [0, 1.5, -1, 10_001, '10']) expectCode({ op: 'scan', limit }, 'invalid_scan', /"limit" of scan must be a whole number from 1 to 10000/);
    expectCode({ op: 'scan', prefix: 5 }, 'invalid_scan', /"prefix" of scan must be a string/);
    expectCode({ op: 'scan', cursor: {} }, 'invalid_scan', /"cursor" of scan must be a string/);
  });

  it('honours custom limits', () => {
    const limits = resolveLimits({ maxKeyBytes: 4, maxTags: 1, maxTtl: 60, maxScanLimit: 5 });
    expectCode({ op: 'get', key: 'abcde' }, 'key_too_long', /limit is 4/, limits);
    expectCode({ op: 'set', key: 'a', value: 1, tags: ['a', 'b'] }, 'too_many_tags', /at most 1 tags/, limits);
    expectCode({ op: 'expire', key: 'a', ttl: 61 }, 'invalid_ttl', /to 60/, limits);
    expectCode({ op: 'scan', limit: 6 }, 'invalid_scan', /from 1 to 5/, limits);
  });
});

describe('encodeValue', () => {
  it('returns the JSON text', () => {
    expect(encodeValue({ a: [1, 'ü'] })).toBe('{"a":[1,"ü"]}');
    expect(encodeValue(null)).toBe('null');
  });

  it('invalid_value for what JSON cannot hold, saying what to store instead', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const value of [undefined, () => 1, Symbol('s'), 10n, circular]) {
      const error = thrown(() => encodeValue(value));
      expect(error.code).toBe('invalid_value');
      expect(error.message).toMatch(/Store plain data/);
    }
  });

  it('value_too_large measures UTF-8 bytes and names the setting', () => {
    const limits = resolveLimits({ maxValueBytes: 10 });
    expect(encodeValue('12345678', limits)).toBe('"12345678"');
    const error = thrown(() => encodeValue('123456789', limits));
    expect(error.code).toBe('value_too_large');
    expect(error.status).toBe(413);
    expect(error.message).toMatch(/11 bytes as JSON; the limit is 10.*LIX_MAX_VALUE_BYTES/);
    // 4 three-byte characters + quotes = 14 bytes although only 6 UTF-16 units.
    expect(thrown(() => encodeValue('日本日本', limits)).message).toMatch(/14 bytes/);
  });
});

describe('the server body rule on values (__proto__, constructor.prototype)', () => {
  // The server parses bodies with secure-json-parse, protoAction and constructorAction 'error'.
  const refused = [
    '{"__proto__":{"polluted":true}}',
    '{"a":[1,{"b":{"__proto__":null}}]}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"constructor":{"prototype":1}}',
    '[{"x":{"constructor":{"prototype":null}}}]',
  ];
  const accepted = ['"__proto__"', '{"a":"__proto__"}', '{"constructor":1}', '{"constructor":"x"}', '{"constructor":{"name":"Object"}}', '{"prototype":{}}', '["constructor","prototype"]'];

  it('encodeValue refuses what the server refuses, with its code and message; accepts the rest', () => {
    for (const json of refused) {
      const error = thrown(() => encodeValue(JSON.parse(json)));
      expect(error.code).toBe('invalid_body');
      expect(error.message).toBe(PROTOTYPE_PROPERTY_MESSAGE);
    }
    for (const json of accepted) expect(encodeValue(JSON.parse(json))).toBe(json);
  });

  it('checkPrototypeProperties reads JSON text; a merged value (patch already checked) can skip it', () => {
    for (const json of refused) expect(thrown(() => checkPrototypeProperties(json)).code).toBe('invalid_body');
    for (const json of accepted) expect(() => checkPrototypeProperties(json)).not.toThrow();
    expect(encodeValue(JSON.parse(refused[0]!), DEFAULT_LIMITS, false)).toBe(refused[0]);
  });

  it('parseCommand refuses a merge patch with either; a set value is checked where it is encoded', () => {
    for (const json of refused.filter((text) => text.startsWith('{'))) {
      expectCode({ op: 'merge', key: 'k', value: JSON.parse(json) }, 'invalid_body', /"__proto__" or "constructor.prototype"/);
    }
    expect(parseCommand({ op: 'merge', key: 'k', value: { constructor: 1, a: '__proto__' } })).toStrictEqual({ op: 'merge', key: 'k', value: { constructor: 1, a: '__proto__' } });
  });
});

describe('utf8Length', () => {
  it('matches Buffer.byteLength for every width', () => {
    for (const text of ['', 'abc', 'é', '日本', '🎉', 'a\u{10FFFF}b', 'mixed ü 日 🎉 text']) expect(utf8Length(text)).toBe(Buffer.byteLength(text));
  });
});

describe('resolveLimits', () => {
  it('rejects unknown names and non-positive values', () => {
    expect(() => resolveLimits({ maxKeys: 5 } as never)).toThrow(/Unknown limit "maxKeys"\. Known limits: maxKeyBytes/);
    expect(() => resolveLimits({ maxBatch: 0 })).toThrow(/"maxBatch" must be a positive number; got 0/);
    expect(resolveLimits({ maxBatch: undefined }).maxBatch).toBe(1000);
  });

  it('keeps the response budget above one result of the largest value', () => {
    expect(resolveLimits().maxResponseBytes).toBe(64 * 1024 * 1024);
    // Larger values raise the default budget with them...
    expect(resolveLimits({ maxValueBytes: 100 * 1024 * 1024 }).maxResponseBytes).toBe(100 * 1024 * 1024 + 1024 + 1024);
    // ...but an explicit budget too small for one value is refused, naming the setting and the minimum.
    expect(() => resolveLimits({ maxResponseBytes: 1000 })).toThrow(/maxResponseBytes \(LIX_MAX_RESPONSE_BYTES, --max-response-bytes\) is 1000 bytes.*at least 1050624/);
  });
});
