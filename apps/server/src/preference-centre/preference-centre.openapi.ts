import { z } from 'zod';
import { userIdParam } from '../contacts/user-schemas';
import { named, type RouteContract, timestamp } from '../contract/route-contract';
import { preferenceLinkSchema } from './preference-centre-link.controller';

const html = (description: string, example?: string) => ({ description, type: 'text/html', example });
/** A link token as the server signs them: base64url(claim).base64url(HMAC-SHA256). */
const TOKEN =
  'eyJ2IjoxLCJwIjoicHJlZmVyZW5jZXMiLCJhIjoiMDE5M2ExYzItNmQ0ZS03YTFiLThjMmQtM2U0ZjVhNmI3YzhkIiwidSI6ImFsaWNlIiwiZSI6MTc3MDAwMTQ0NX0.Rx53KAcVKxCXZvDhBseXB1QikV7qcJ0dJn4_lUPh-JU';
const page = (body: string) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Notification preferences</title></head><body>${body}</body></html>`;
const form = (notice: string) =>
  page(
    `<h1>Notification preferences</h1>\n<p>Choose how Shop may reach you.</p>\n${notice}<form method="post" action="page">\n<input type="hidden" name="token" value="${TOKEN}">\n<input type="hidden" name="shown" value="email:orders email:marketing">\n<fieldset>…</fieldset>\n<button type="submit">Save preferences</button>\n</form>`,
  );
const pageErrors = {
  400: html(
    '`invalid_token`: a malformed link, or `invalid_request`: a refused save (the form again, with the reason)',
    page(
      '<h1>This link cannot be used</h1><p>this preference link is malformed</p><p class="note">Error 400. Open the newest link from one of our e-mails, or contact us.</p>',
    ),
  ),
  401: html(
    '`forged_token`: a link not issued by this server',
    page(
      '<h1>This link cannot be used</h1><p>this preference link was not issued by this server</p><p class="note">Error 401. Open the newest link from one of our e-mails, or contact us.</p>',
    ),
  ),
  404: html(
    '`not_found`: the link’s user no longer exists',
    page(
      '<h1>This link cannot be used</h1><p>user not found</p><p class="note">Error 404. Open the newest link from one of our e-mails, or contact us.</p>',
    ),
  ),
  410: html(
    '`expired_token`: the link expired',
    page(
      '<h1>This link cannot be used</h1><p>this preference link has expired</p><p class="note">Error 410. Open the newest link from one of our e-mails, or contact us.</p>',
    ),
  ),
};
const tokenQuery = z.object({ token: z.string().optional() });
const pageForm = z.looseObject({
  token: z.string(),
  shown: z.string().optional().meta({ description: 'The toggles the page showed, `channel:category` …' }),
  quiet: z.literal('1').optional(),
  quietStart: z
    .string()
    .optional()
    .meta({ examples: ['22:00'] }),
  quietEnd: z
    .string()
    .optional()
    .meta({ examples: ['07:00'] }),
});

/** The hosted preference centre: a signed link, its page and the page's form. */
export const preferenceCentreRoutes: RouteContract[] = [
  {
    method: 'post',
    path: '/v1/users/{userId}/preferences/link',
    summary: 'A signed, expiring link to the user’s hosted preference page (server keys)',
    auth: 'app',
    params: z.object({ userId: userIdParam }),
    body: named('PreferenceLink', preferenceLinkSchema),
    bodyRequired: false,
    bodyExample: { expiresIn: 604_800 },
    answers: {
      200: {
        description: 'The link and when it stops working',
        body: z.object({ url: z.string(), expiresAt: timestamp }).meta({
          examples: [
            {
              url: `https://notify.example.com/v1/preferences/page?token=${TOKEN}`,
              expiresAt: '2026-02-02T03:04:05.000Z',
            },
          ],
        }),
      },
    },
  },
  {
    method: 'get',
    path: '/v1/preferences/page',
    summary: 'Hosted preference page (HTML) for the user of a signed link',
    auth: 'none',
    query: tokenQuery,
    answers: { 200: html('The form', form('')), ...pageErrors },
    usualErrors: [503],
  },
  {
    method: 'post',
    path: '/v1/preferences/page',
    summary:
      'Save the preference page’s form (form-encoded; the token in the form; `on:channel:category=1` per ticked toggle)',
    auth: 'none',
    query: tokenQuery,
    body: pageForm,
    bodyTypes: ['application/x-www-form-urlencoded'],
    answers: {
      200: html('Saved; the form again', form('<p role="status">Your preferences are saved.</p>\n')),
      ...pageErrors,
    },
    usualErrors: [413, 415, 503],
  },
];
