import { ERRORS } from 'lix-cache-core';
import { describe, expect, it } from 'vitest';
import { errorFromCode } from '../src/errors';
import { LixServerError } from '../src/index';

describe('every registered error code maps to a typed SDK error', () => {
  it.each(Object.entries(ERRORS).filter(([, entry]) => entry.status >= 500))('%s (a 5xx) is a LixServerError', (code, entry) => {
    const error = errorFromCode(code, 'message', entry.status);
    expect(error).toBeInstanceOf(LixServerError);
    expect(error).toMatchObject({ code, status: entry.status });
  });
});
