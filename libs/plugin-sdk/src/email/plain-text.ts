import { convert } from 'html-to-text';
import type { MessageContent } from '../message';

/**
 * Every e-mail carries a plain-text part: spam filters penalise HTML-only mail and some readers
 * show only text. When the template gave none, it is derived from the HTML.
 */
export function plainTextOf(content: MessageContent): string | undefined {
  if (content.text !== undefined && content.text !== '') return content.text;
  if (content.html === undefined || content.html === '') return content.body;
  return convert(content.html, {
    wordwrap: 78,
    selectors: [
      { selector: 'img', format: 'skip' },
      // Keep link targets: a text reader still needs somewhere to click.
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    ],
  });
}

/** Whether the text part had to be derived from the HTML (plugins count these). */
export function textIsDerived(content: MessageContent): boolean {
  return (
    (content.text === undefined || content.text === '') && content.html !== undefined && content.html !== ''
  );
}
