import escapeHtml from 'escape-html';

/** Markup that is already safe: a template's output. */
export class Html {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

function render(value: unknown): string {
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * A template tag: every interpolated value is escaped (escape-html: `& < > " '`, so it is
 * safe in text and in quoted attributes), except the output of another `html` template.
 * Arrays are joined; undefined, null and false render nothing.
 *
 * ```ts
 * html`<p class="greeting">Hello, ${username}</p>`
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let markup = strings[0]!;
  for (let i = 0; i < values.length; i++) markup += render(values[i]) + strings[i + 1]!;
  return new Html(markup);
}
