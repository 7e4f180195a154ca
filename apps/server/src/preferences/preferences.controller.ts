import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { AppsService } from '../apps/apps.service';
import type { AuthContext } from '../apps/auth-context';
import { ClientKeyAllowed } from '../auth/api-key.guard';
import { CurrentAuth } from '../auth/current-auth';
import { RequireApiKey } from '../auth/require-auth';
import { notFound } from '../common/api-error';
import { validate } from '../common/validate';
import { ownUser } from '../contacts/own-user';
import { putPreferencesSchema } from './preference-schemas';
import { PreferencesService } from './preferences.service';

@Controller('v1/users')
@RequireApiKey()
export class PreferencesController {
  constructor(
    private readonly preferences: PreferencesService,
    private readonly apps: AppsService,
  ) {}

  private async settings(appId: string) {
    const app = await this.apps.get(appId);
    if (!app) throw notFound('app');
    return app.settings;
  }

  @Get(':userId/preferences')
  @ClientKeyAllowed()
  async get(@CurrentAuth() auth: AuthContext, @Param('userId') userId: string) {
    const id = ownUser(auth, userId);
    const view = await this.preferences.get(auth.appId, await this.settings(auth.appId), id);
    if (!view) throw notFound('user');
    return view;
  }

  @Put(':userId/preferences')
  @ClientKeyAllowed()
  async put(@CurrentAuth() auth: AuthContext, @Param('userId') userId: string, @Body() body: unknown) {
    const id = ownUser(auth, userId);
    const input = validate(putPreferencesSchema, body ?? {});
    const settings = await this.settings(auth.appId);
    if (
      !(await this.preferences.put(auth.appId, settings, id, input, auth.kind === 'client' ? 'user' : 'api'))
    )
      throw notFound('user');
    return (await this.preferences.get(auth.appId, settings, id))!;
  }
}
