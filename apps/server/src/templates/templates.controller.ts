import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { AppsService } from '../apps/apps.service';
import type { AuthContext } from '../apps/auth-context';
import { CurrentAuth } from '../auth/current-auth';
import { RequireApiKey } from '../auth/require-auth';
import { NotFoundError } from '../common/errors/domain-error';
import { validate } from '../common/validate';
import { PluginRegistry } from '../plugins/plugin-registry';
import { listQuery, templateKeyParam, versionParam } from './template-schemas';
import { templateSchemasFor } from './template-schemas-for';
import { TemplatesService } from './templates.service';

/** Templates are managed with server keys only (the guard refuses client keys: no @ClientKeyAllowed here). */
@Controller('v1/templates')
@RequireApiKey()
export class TemplatesController {
  constructor(
    private readonly templates: TemplatesService,
    private readonly apps: AppsService,
    private readonly plugins: PluginRegistry,
  ) {}

  private async app(auth: AuthContext) {
    const app = await this.apps.get(auth.appId);
    if (!app) throw new NotFoundError('app');
    return app;
  }

  @Put(':key')
  @HttpCode(201)
  async publish(@CurrentAuth() auth: AuthContext, @Param('key') rawKey: string, @Body() body: unknown) {
    const key = validate(templateKeyParam, rawKey, 'key');
    const input = validate(templateSchemasFor(this.plugins).publish, body ?? {});
    return this.templates.publish(await this.app(auth), key, input);
  }

  @Get()
  async list(@CurrentAuth() auth: AuthContext, @Query() query: unknown) {
    const q = validate(listQuery, query, 'query');
    const templates = await this.templates.list(auth.appId, q.includeArchived, q.after ?? null, q.limit);
    return { templates, nextCursor: templates.length === q.limit ? templates.at(-1)!.key : null };
  }

  @Get(':key')
  async latest(@CurrentAuth() auth: AuthContext, @Param('key') rawKey: string) {
    return this.templates.get(auth.appId, validate(templateKeyParam, rawKey, 'key'), null);
  }

  @Get(':key/versions/:version')
  async version(
    @CurrentAuth() auth: AuthContext,
    @Param('key') rawKey: string,
    @Param('version') rawVersion: string,
  ) {
    const key = validate(templateKeyParam, rawKey, 'key');
    return this.templates.get(auth.appId, key, validate(versionParam, rawVersion, 'version'));
  }

  @Delete(':key')
  @HttpCode(204)
  async archive(@CurrentAuth() auth: AuthContext, @Param('key') rawKey: string) {
    await this.templates.archive(auth.appId, validate(templateKeyParam, rawKey, 'key'));
  }

  @Post(':key/preview')
  @HttpCode(200)
  async preview(@CurrentAuth() auth: AuthContext, @Param('key') rawKey: string, @Body() body: unknown) {
    const key = validate(templateKeyParam, rawKey, 'key');
    const input = validate(templateSchemasFor(this.plugins).preview, body ?? {});
    return this.templates.preview(await this.app(auth), key, input);
  }
}
