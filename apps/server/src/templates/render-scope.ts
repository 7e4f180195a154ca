/** What Liquid sees: `data` (the notification's), `user` (profile and attributes), `app`. Same shape as the planner's. */
export function renderScope(
  data: Record<string, unknown>,
  user: {
    id?: string | undefined;
    locale?: string | null | undefined;
    timezone?: string | null | undefined;
    attributes?: Record<string, unknown> | undefined;
  },
  app: { id: string; name: string },
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
  };
}
