import type { StandardSchemaV1 } from '@standard-schema/spec';

/** Session data that does not match the store's `schema`. Nothing was written. */
export class SessionValidationError extends Error {
  override readonly name = 'SessionValidationError';

  constructor(
    /** The schema's issues, each with a message and a path. */
    readonly issues: ReadonlyArray<StandardSchemaV1.Issue>,
  ) {
    const details = issues
      .slice(0, 5)
      .map((issue) => {
        const path = issue.path?.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.');
        return path ? `${path}: ${issue.message}` : issue.message;
      })
      .join('; ');
    super(`The session data does not match the SessionStore's schema (${details}). Fix the data, or the schema passed as \`schema\`.`);
  }
}
