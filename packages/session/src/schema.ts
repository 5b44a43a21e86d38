import type { StandardSchemaV1 } from '@standard-schema/spec';
import { SessionValidationError } from './errors';

/** Run a Standard Schema (Zod, Valibot, ArkType, ...) and return its output, or throw SessionValidationError. */
export async function validate<T>(schema: StandardSchemaV1<unknown, T>, value: unknown): Promise<T> {
  let result = schema['~standard'].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues) throw new SessionValidationError(result.issues);
  return result.value;
}

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { '~standard'?: { validate?: unknown } })['~standard']?.validate === 'function'
  );
}
