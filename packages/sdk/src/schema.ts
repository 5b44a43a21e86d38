import type { StandardSchemaV1 } from '@standard-schema/spec';
import { LixValidationError, type LixIssue } from './errors';

/** A Zod schema from before Standard Schema support (Zod < 3.24): validated via `safeParse`. */
export interface SafeParseSchema<T = unknown> {
  safeParse(data: unknown): { success: true; data: T } | { success: false; error: { issues: readonly { message: string; path?: readonly PropertyKey[] }[] } };
}

/**
 * Any schema the SDK validates with: a Standard Schema (Zod 3.24+ and 4, Valibot,
 * ArkType, …) or an older Zod schema with `safeParse`.
 */
export type Schema<T = unknown> = StandardSchemaV1<unknown, T> | SafeParseSchema<T>;

/** The type a schema produces. */
export type InferSchema<S> = S extends StandardSchemaV1
  ? StandardSchemaV1.InferOutput<S>
  : S extends SafeParseSchema<infer T>
    ? T
    : never;

function isStandard(schema: Schema): schema is StandardSchemaV1<unknown, unknown> {
  return typeof (schema as StandardSchemaV1)['~standard']?.validate === 'function';
}

/** Check once, where the schema is given, that it is one the SDK can run. */
export function checkSchema(schema: unknown, where: string): void {
  if (schema === undefined) return;
  const ok =
    typeof schema === 'object' || typeof schema === 'function'
      ? isStandard(schema as Schema) || typeof (schema as SafeParseSchema).safeParse === 'function'
      : false;
  if (!ok) {
    throw new LixValidationError(
      'invalid_schema',
      `${where}: the schema must be a Standard Schema (Zod, Valibot, ArkType, …) or have a safeParse method; got ${typeof schema}.`,
      [{ message: 'not a schema' }],
    );
  }
}

function describePath(path: LixIssue['path']): string {
  if (!path || path.length === 0) return '';
  return `${path.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.')}: `;
}

function failure(key: string, direction: 'write' | 'read', issues: readonly LixIssue[]): LixValidationError {
  const detail = issues
    .slice(0, 5)
    .map((issue) => `${describePath(issue.path)}${issue.message}`)
    .join('; ');
  const advice =
    direction === 'write'
      ? 'Fix the value before storing it.'
      : 'The stored value no longer matches the schema (written by other code or an older version); delete it or migrate it.';
  return new LixValidationError('validation_failed', `Invalid value for "${key}" on ${direction}: ${detail}. ${advice}`, issues);
}

/**
 * Validate `value` with `schema`; resolves with the schema's output (defaults
 * applied, unknown keys stripped as the schema says) or throws LixValidationError.
 */
export async function validate<T>(schema: Schema<T>, value: unknown, key: string, direction: 'write' | 'read'): Promise<T> {
  if (isStandard(schema)) {
    let result = schema['~standard'].validate(value);
    if (result instanceof Promise) result = await result;
    if (result.issues) throw failure(key, direction, result.issues);
    return result.value as T;
  }
  const result = schema.safeParse(value);
  if (!result.success) throw failure(key, direction, result.error.issues);
  return result.data;
}
