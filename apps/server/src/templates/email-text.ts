import { convert } from 'html-to-text';

/**
 * The plain-text part an e-mail plugin derives when a template gives only HTML (same options as
 * the plugins' `plain-text.ts`), so a preview shows what a text-only reader will see.
 */
export function textFromHtml(html: string): string {
  return convert(html, {
    wordwrap: 78,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    ],
  });
}
