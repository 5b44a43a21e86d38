/**
 * A URL for logs and messages with its credentials replaced by `***`:
 * `redis://:secret@host:6379` becomes `redis://***@host:6379`. Everything up to
 * the last `@` is cut, so a password holding `@` or `/` is hidden too (at worst
 * a later `@` hides a little more than needed).
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('://');
  const at = url.lastIndexOf('@');
  return start === -1 || at < start ? url : `${url.slice(0, start + 3)}***${url.slice(at)}`;
}

/** `text` with the credentials of every URL in it replaced by `***` (for messages that quote what a user typed). */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s'"]*@/gi, '$1***@');
}
