import { z } from 'zod';
import { userIdParam } from '../contacts/user-schemas';
import { named, type RouteContract, timestamp } from '../contract/route-contract';
import { preferenceLinkSchema } from './preference-centre-link.controller';

const html = (description: string) => ({ description, type: 'text/html' });
const pageErrors = {
  400: html(
    '`invalid_token`: a malformed link, or `invalid_request`: a refused save (the form again, with the reason)',
  ),
  401: html('`forged_token`: a link not issued by this server'),
  404: html('`not_found`: the link’s user no longer exists'),
  410: html('`expired_token`: the link expired'),
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
    answers: {
      200: {
        description: 'The link and when it stops working',
        body: z.object({ url: z.string(), expiresAt: timestamp }),
      },
    },
  },
  {
    method: 'get',
    path: '/v1/preferences/page',
    summary: 'Hosted preference page (HTML) for the user of a signed link',
    auth: 'none',
    query: tokenQuery,
    answers: { 200: html('The form'), ...pageErrors },
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
    answers: { 200: html('Saved; the form again'), ...pageErrors },
    usualErrors: [413, 415, 503],
  },
];
