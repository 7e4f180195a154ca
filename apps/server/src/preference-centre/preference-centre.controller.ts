import { Body, Controller, Get, HttpCode, Inject, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { AppSettings } from '../apps/app-settings';
import { AppsService } from '../apps/apps.service';
import { notFound } from '../common/api-error';
import { refusalOf } from '../common/errors/error-answer';
import { validate } from '../common/validate';
import { UserRepository } from '../contacts/user-repository';
import { PluginRegistry } from '../plugins/plugin-registry';
import { type PutPreferences, putPreferencesSchema } from '../preferences/preference-schemas';
import { PreferencesService, type PreferencesView } from '../preferences/preferences.service';
import { CORE_CHANNELS } from '../templates/notification-request';
import { PreferenceCentreTokens } from '../unsubscribe/preference-centre-token';
import { errorPage, preferenceCentrePage } from './preference-centre-page';
import { preferenceGrid, rulesFromForm } from './preference-grid';

const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

interface Holder {
  appName: string;
  appId: string;
  externalId: string;
  settings: AppSettings;
}

/**
 * The hosted preference centre. Public (no app key): the signed, expiring token is the authority.
 * GET shows the form; POST (form-encoded, the token in a hidden field) saves through the same
 * service and validation as PUT /v1/users/:id/preferences. No cookies are set, so a cross-site
 * form cannot act without the token. Bad links and refused saves answer a 4xx HTML page.
 */
@Controller('v1/preferences/page')
export class PreferenceCentreController {
  constructor(
    private readonly users: UserRepository,
    private readonly apps: AppsService,
    private readonly preferences: PreferencesService,
    private readonly registry: PluginRegistry,
    @Inject(PreferenceCentreTokens) private readonly tokens: PreferenceCentreTokens,
  ) {}

  @Get()
  async show(
    @Query('token') token: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    return this.page(reply, async () => {
      const holder = await this.holder(token);
      return this.render(holder, String(token));
    });
  }

  @Post()
  @HttpCode(200)
  async save(
    @Query('token') queryToken: unknown,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const form: Record<string, unknown> =
      body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    const token = form.token ?? queryToken;
    return this.page(reply, async () => {
      const holder = await this.holder(token);
      const view = await this.view(holder);
      const grid = preferenceGrid(view, this.channels());
      const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
      const shown = new Set(field('shown').split(/\s+/).filter(Boolean));
      const on = new Set(
        Object.keys(form)
          .filter((k) => k.startsWith('on:') && form[k] === '1')
          .map((k) => k.slice(3)),
      );
      const input: Record<string, unknown> = {};
      const rules = rulesFromForm(view, grid, shown, on);
      if (rules.length > 0) input.rules = rules;
      const quiet = quietHoursFromForm(view, field('quiet') === '1', field('quietStart'), field('quietEnd'));
      if (quiet !== undefined) input.quietHours = quiet;
      try {
        if (Object.keys(input).length > 0) {
          const checked: PutPreferences = validate(putPreferencesSchema, input);
          if (
            !(await this.preferences.put(
              holder.appId,
              holder.settings,
              holder.externalId,
              checked,
              'preference_centre',
            ))
          )
            throw notFound('the user of this preferences link');
        }
      } catch (error) {
        const refusal = refusalOf(error);
        if (!refusal || refusal.status === 404) throw error;
        reply.status(refusal.status);
        return this.render(holder, String(token), { text: `Not saved: ${refusal.message}`, alert: true });
      }
      return this.render(holder, String(token), { text: 'Your preferences are saved.', alert: false });
    });
  }

  /** Runs `build`; an ApiError becomes an HTML page with its status (people, not API clients, read these). */
  private async page(reply: FastifyReply, build: () => Promise<string>): Promise<string> {
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      // No scripts, no framing (clickjacking), the form posts only here.
      .header('content-security-policy', CSP)
      .header('referrer-policy', 'no-referrer');
    try {
      return await build();
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      reply.status(refusal.status);
      return errorPage(refusal.status, refusal.message);
    }
  }

  private async render(holder: Holder, token: string, message?: { text: string; alert: boolean }) {
    const view = await this.view(holder);
    return preferenceCentrePage(holder.appName, view, preferenceGrid(view, this.channels()), token, message);
  }

  private async view(holder: Holder): Promise<PreferencesView> {
    const view = await this.preferences.get(holder.appId, holder.settings, holder.externalId);
    if (!view) throw notFound('the user of this preferences link');
    return view;
  }

  /** The channels the server delivers on (loaded plugins), core ones in their usual order. */
  private channels(): string[] {
    const loaded = new Set(this.registry.loaded.map((l) => l.plugin.channel));
    const core: string[] = CORE_CHANNELS.filter((c) => loaded.has(c));
    return [...core, ...[...loaded].filter((c) => !core.includes(c)).sort()];
  }

  private async holder(token: unknown): Promise<Holder> {
    const claim = this.tokens.verify(token);
    const user = await this.users.withAppName(claim.appId, claim.userId);
    const app = user ? await this.apps.get(claim.appId) : null;
    if (!user || !app) throw notFound('the user of this preferences link');
    return {
      appName: user.appName,
      appId: claim.appId,
      externalId: user.externalId,
      settings: app.settings,
    };
  }
}

/** The quiet-hours change the form asks for: undefined for none, null to remove the window. */
function quietHoursFromForm(
  view: PreferencesView,
  on: boolean,
  start: string,
  end: string,
): PutPreferences['quietHours'] {
  const current = view.quietHours;
  if (!on) return current ? null : undefined;
  if (current && current.start === start && current.end === end) return undefined;
  return { start, end, categories: current?.categories ?? null };
}
