import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { AdminGuard } from '../auth/admin.guard';
import { KeyService } from '../auth/key.service';
import { badRequest, notFound } from '../common/api-error';
import { UUID } from '../common/ids';
import { validate } from '../common/validate';
import { appSettingsSchema } from './app-settings';
import { AppsService } from './apps.service';
import { IntegrationsService } from './integrations.service';

const createAppSchema = z
  .object({ name: z.string().min(1).max(200), settings: appSettingsSchema.partial().optional() })
  .strict();
const createKeySchema = z
  .object({ kind: z.enum(['server', 'client']).default('server'), name: z.string().max(200).default('') })
  .strict();
const integrationSchema = z.object({ config: z.record(z.string(), z.unknown()) }).strict();

/** Operator API: apps, keys, per-app provider settings. `Authorization: Bearer <CLARION_ADMIN_TOKEN>`. */
@Controller('admin/apps')
@UseGuards(AdminGuard)
export class AdminController {
  constructor(
    private readonly apps: AppsService,
    private readonly keys: KeyService,
    private readonly integrations: IntegrationsService,
  ) {}

  private async app(appId: string) {
    const app = UUID.test(appId) ? await this.apps.get(appId) : null;
    if (!app) throw notFound('app');
    return app;
  }

  @Post()
  async create(@Body() body: unknown) {
    const input = validate(createAppSchema, body);
    const { app, key } = await this.apps.create(input.name, input.settings);
    return {
      app: { id: app.id, name: app.name, settings: app.settings },
      key: { id: key.keyId, kind: key.kind, appKey: key.appKey, appSecret: key.appSecret },
      userTokenSecret: app.userTokenSecret,
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
    const settings = UUID.test(appId)
      ? await this.apps.patchSettings(appId, body as Record<string, unknown>)
      : null;
    if (!settings) throw notFound('app');
    return { settings };
  }

  @Put(':appId/settings')
  async settings(@Param('appId') appId: string, @Body() body: unknown) {
    await this.app(appId);
    const settings = validate(appSettingsSchema, body);
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
