/** The one user of the bench (alice of the example apps). */
export const user = { userId: 'user-1', username: 'alice', email: 'alice@example.com' };
export type UserData = typeof user;
