/** What `links.*` holds in a render: signed per-user URLs (today the hosted preference page). */
export interface RenderLinks {
  readonly preferences: string | undefined;
}

/**
 * `links` where no real recipient is being sent to (publish-time size estimates, previews, the
 * checks before a fan-out): a URL of about the real one's length, never a usable token, so a
 * preview cannot mint a live link and a `url` field using it still renders to a URL.
 */
export const SAMPLE_LINKS: RenderLinks = {
  preferences: `https://preview.invalid/v1/preferences/page?token=${'x'.repeat(160)}`,
};

/**
 * What Liquid sees: `data` (the notification's), `user` (profile and attributes), `app`, `links`.
 * Same shape as the planner's (ingest/planner.ts), which fills `links` for the real recipient.
 */
export function renderScope(
  data: Record<string, unknown>,
  user: {
    id?: string | undefined;
    locale?: string | null | undefined;
    timezone?: string | null | undefined;
    attributes?: Record<string, unknown> | undefined;
  },
  app: { id: string; name: string },
  links: RenderLinks = SAMPLE_LINKS,
): Record<string, unknown> {
  return {
    data,
    user: {
      id: user.id ?? null,
      locale: user.locale ?? null,
      timezone: user.timezone ?? null,
      ...user.attributes,
    },
    app: { id: app.id, name: app.name },
    links,
  };
}
