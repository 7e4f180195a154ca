import { isEmailAddress } from './email-address';

/** One entry of SendGrid's `{errors:[{message, field, help}]}` 400 body. */
export interface SendgridFieldError {
  message: string;
  field: string | null;
  help: string | null;
}

export interface SendgridAddress {
  email: string;
  name?: string;
}
export interface SendgridPersonalization {
  to?: SendgridAddress[];
  cc?: SendgridAddress[];
  bcc?: SendgridAddress[];
  subject?: string;
  custom_args?: Record<string, unknown>;
  headers?: Record<string, unknown>;
}
export interface SendgridMailBody {
  personalizations?: SendgridPersonalization[];
  from?: SendgridAddress;
  reply_to?: SendgridAddress;
  subject?: string;
  content?: { type?: string; value?: string }[];
  template_id?: string;
  headers?: Record<string, unknown>;
  categories?: unknown[];
  custom_args?: Record<string, unknown>;
}

export const SENDGRID_MAX_RECIPIENTS = 1000;
const MAX_CUSTOM_ARGS_BYTES = 10_000;
/** Headers SendGrid sets itself and refuses in `headers` (Mail Send limitations page). */
const RESERVED_HEADERS = new Set([
  'x-sg-id',
  'x-sg-eid',
  'received',
  'dkim-signature',
  'content-type',
  'content-transfer-encoding',
  'to',
  'from',
  'subject',
  'reply-to',
  'cc',
  'bcc',
]);

const help = (anchor: string) =>
  `http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.${anchor}`;

/** The checks SendGrid's v3 Mail Send applies before it answers 202. Empty when the body is acceptable. */
export function validateSendgridMail(body: SendgridMailBody | undefined): SendgridFieldError[] {
  const errors: SendgridFieldError[] = [];
  const add = (message: string, field: string | null, anchor: string) =>
    errors.push({ message, field, help: help(anchor) });
  if (!body || typeof body !== 'object') {
    add('Bad Request', null, 'body');
    return errors;
  }
  const personalizations = body.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    add(
      'The personalizations field is required and must have at least one personalization.',
      'personalizations',
      'personalizations',
    );
  } else {
    let recipients = 0;
    personalizations.forEach((p, i) => {
      if (!Array.isArray(p.to) || p.to.length === 0) {
        add(
          'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
          `personalizations.${i}.to`,
          'personalizations.to',
        );
      }
      for (const kind of ['to', 'cc', 'bcc'] as const) {
        for (const [j, address] of (p[kind] ?? []).entries()) {
          recipients += 1;
          if (!isEmailAddress(address?.email)) {
            add(
              'Does not contain a valid address.',
              `personalizations.${i}.${kind}.${j}.email`,
              `personalizations.${kind}`,
            );
          }
        }
      }
      if (p.subject === undefined && body.subject === undefined && body.template_id === undefined) {
        add(
          'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
          'subject',
          'subject',
        );
      }
    });
    if (recipients > SENDGRID_MAX_RECIPIENTS) {
      add(
        `The total number of recipients must be less than ${SENDGRID_MAX_RECIPIENTS}. This includes all recipients defined within the to, cc, and bcc parameters, across each object that you include in the personalizations array.`,
        'personalizations',
        'personalizations',
      );
    }
  }
  if (!isEmailAddress(body.from?.email))
    add(
      'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.',
      'from.email',
      'from',
    );
  if (body.reply_to !== undefined && !isEmailAddress(body.reply_to.email))
    add('Does not contain a valid address.', 'reply_to.email', 'reply_to');
  if (body.template_id === undefined) {
    if (!Array.isArray(body.content) || body.content.length === 0) {
      add(
        'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
        'content',
        'content',
      );
    } else {
      body.content.forEach((c, i) => {
        if (typeof c.type !== 'string' || c.type === '')
          add('The content type cannot be blank.', `content.${i}.type`, 'content.type');
        if (typeof c.value !== 'string' || c.value === '')
          add(
            'The content value must be a string at least one character in length.',
            `content.${i}.value`,
            'content.value',
          );
      });
      const plainIndex = body.content.findIndex((c) => c.type === 'text/plain');
      if (plainIndex > 0)
        add(
          'If present, text/plain content must be first, followed by any other content.',
          'content',
          'content.type',
        );
    }
  }
  // Reserved in the mail's headers and in each personalization's alike.
  const headerSets: [string, Record<string, unknown> | undefined][] = [
    ['headers', body.headers],
    ...(body.personalizations ?? []).map(
      (p, i) => [`personalizations.${i}.headers`, p.headers] as [string, Record<string, unknown> | undefined],
    ),
  ];
  for (const [at, headers] of headerSets)
    for (const name of Object.keys(headers ?? {})) {
      if (RESERVED_HEADERS.has(name.toLowerCase()))
        add(`The header '${name}' is reserved and cannot be set.`, `${at}.${name}`, 'headers');
    }
  const categories = body.categories ?? [];
  if (
    !Array.isArray(categories) ||
    categories.length > 10 ||
    categories.some((c) => typeof c !== 'string' || c.length > 255)
  ) {
    add(
      'Categories must be an array of at most 10 strings of at most 255 characters.',
      'categories',
      'categories',
    );
  }
  // SendGrid: "Each unique email address in the personalizations array should only be included once."
  const seen = new Set<string>();
  for (const p of personalizations ?? [])
    for (const a of [...(p.to ?? []), ...(p.cc ?? []), ...(p.bcc ?? [])]) {
      const email = typeof a?.email === 'string' ? a.email.toLowerCase() : '';
      if (email && seen.has(email)) {
        add(
          'Each unique email address in the personalizations array should only be included once. You have included email address more than once.',
          'personalizations',
          'personalizations',
        );
        break;
      }
      seen.add(email);
    }
  const argSets = [body.custom_args ?? {}, ...(personalizations ?? []).map((p) => p.custom_args ?? {})];
  for (const args of argSets) {
    if (Object.values(args).some((v) => typeof v !== 'string'))
      add('Custom args values must be strings.', 'custom_args', 'custom_args');
  }
  if (Buffer.byteLength(JSON.stringify(argSets)) > MAX_CUSTOM_ARGS_BYTES) {
    add('The custom arguments must total less than 10000 bytes.', 'custom_args', 'custom_args');
  }
  return errors;
}
