import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { appSettingsSchema } from '../apps/app-settings';
import { AppsService } from '../apps/apps.service';
import { IntegrationsService } from '../apps/integrations.service';
import { KeyService } from '../apps/key.service';
import { RequireAdmin } from '../auth/require-auth';
import { badRequest, notFound } from '../common/api-error';
import { freeRecord, JSON_LIMITS } from '../common/free-json';
import { UUID } from '../common/ids';
import { assertOutboundUrls } from '../common/outbound-urls';
import { validate } from '../common/validate';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';

export const createAppSchema = z
  .object({ name: z.string().min(1).max(200), settings: appSettingsSchema.partial().optional() })
  .strict();
export const createKeySchema = z
  .object({ kind: z.enum(['server', 'client']).default('server'), name: z.string().max(200).default('') })
  .strict();
/** Tokens signed with the replaced secret keep verifying this long (default a day, at most 30 days). */
export const rotateUserTokenSecretSchema = z
  .object({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .default(86_400),
  })
  .strict();
/** Bounded before mergePatch recurses into it. */
export const settingsPatchSchema = freeRecord(JSON_LIMITS.settingsPatch);
export const integrationSchema = z.object({ config: freeRecord(JSON_LIMITS.integrationConfig) }).strict();

/** Operator API: apps, keys, per-app provider settings. `Authorization: Bearer <CLARION_ADMIN_TOKEN>`. */
@Controller('admin/apps')
@RequireAdmin()
export class AdminController {
  constructor(
    private readonly apps: AppsService,
    private readonly keys: KeyService,
    private readonly integrations: IntegrationsService,
    @Inject(ENV) private readonly env: Env,
  ) {}

  private async app(appId: string) {
    const app = UUID.test(appId) ? await this.apps.get(appId) : null;
    if (!app) throw notFound('app');
    return app;
  }

  @Post()
  async create(@Body() body: unknown) {
    const input = validate(createAppSchema, body);
    assertOutboundUrls(this.env, [{ path: 'body.settings.webhookUrl', url: input.settings?.webhookUrl }]);
    const { app, key, userTokenSecret } = await this.apps.create(input.name, input.settings);
    return {
      app: { id: app.id, name: app.name, settings: app.settings },
      key: { id: key.keyId, kind: key.kind, appKey: key.appKey, appSecret: key.appSecret },
      userTokenSecret,
    };
  }

  @Get()
  list() {
    return this.apps.list().then((apps) => ({ apps }));
  }

  @Get(':appId')
  async read(@Param('appId') appId: string) {
    const app = await this.app(appId);
    return { id: app.id, name: app.name, settings: app.settings };
  }

  /** JSON Merge Patch (RFC 7396) of the settings: only what the body names changes; null resets a setting. */
  @Patch(':appId/settings')
  async patchSettings(@Param('appId') appId: string, @Body() body: unknown) {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw badRequest('the body must be a JSON object (a merge patch of the settings)', [
        { path: 'body', message: 'expected an object' },
      ]);
    const patch = validate(settingsPatchSchema, body);
    const settings = UUID.test(appId)
      ? await this.apps.patchSettings(appId, patch, (merged) =>
          assertOutboundUrls(this.env, [{ path: 'body.webhookUrl', url: merged.webhookUrl }]),
        )
      : null;
    if (!settings) throw notFound('app');
    return { settings };
  }

  @Put(':appId/settings')
  async settings(@Param('appId') appId: string, @Body() body: unknown) {
    await this.app(appId);
    const settings = validate(appSettingsSchema, body);
    assertOutboundUrls(this.env, [{ path: 'body.webhookUrl', url: settings.webhookUrl }]);
    await this.apps.updateSettings(appId, settings);
    return { settings };
  }

  @Post(':appId/keys')
  async createKey(@Param('appId') appId: string, @Body() body: unknown) {
    await this.app(appId);
    const input = validate(createKeySchema, body ?? {});
    const key = await this.keys.create(appId, input.kind, input.name);
    return { id: key.keyId, kind: key.kind, name: key.name, appKey: key.appKey, appSecret: key.appSecret };
  }

  @Get(':appId/keys')
  async listKeys(@Param('appId') appId: string) {
    await this.app(appId);
    return { keys: await this.keys.list(appId) };
  }

  @Post(':appId/keys/:keyId/rotate')
  async rotate(@Param('appId') appId: string, @Param('keyId') keyId: string) {
    await this.app(appId);
    const key = UUID.test(keyId) ? await this.keys.rotate(appId, keyId) : null;
    if (!key) throw notFound('key');
    return { id: key.keyId, kind: key.kind, appKey: key.appKey, appSecret: key.appSecret };
  }

  /** A new user-token secret (shown once); the old one verifies tokens until `previousValidUntil`. */
  @Post(':appId/user-token-secret/rotate')
  async rotateUserTokenSecret(@Param('appId') appId: string, @Body() body: unknown) {
    await this.app(appId);
    const input = validate(rotateUserTokenSecretSchema, body ?? {});
    const rotated = await this.apps.rotateUserTokenSecret(appId, input.graceSeconds);
    if (!rotated) throw notFound('app');
    return rotated;
  }

  @Delete(':appId/keys/:keyId')
  @HttpCode(204)
  async revoke(@Param('appId') appId: string, @Param('keyId') keyId: string) {
    await this.app(appId);
    if (!UUID.test(keyId) || !(await this.keys.revoke(appId, keyId))) throw notFound('key');
  }

  @Put(':appId/integrations/:plugin')
  @HttpCode(204)
  async putIntegration(
    @Param('appId') appId: string,
    @Param('plugin') plugin: string,
    @Body() body: unknown,
  ) {
    await this.app(appId);
    await this.integrations.put(appId, plugin, validate(integrationSchema, body).config);
  }

  @Delete(':appId/integrations/:plugin')
  @HttpCode(204)
  async deleteIntegration(@Param('appId') appId: string, @Param('plugin') plugin: string) {
    await this.app(appId);
    if (!(await this.integrations.delete(appId, plugin))) throw notFound('integration');
  }
}
