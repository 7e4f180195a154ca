import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { AuthContext } from '../apps/auth-context';
import { ClientKeyAllowed } from '../auth/api-key.guard';
import { CurrentAuth } from '../auth/current-auth';
import { RequireApiKey } from '../auth/require-auth';
import { forbidden, notFound } from '../common/api-error';
import { UUID } from '../common/ids';
import { assertOutboundUrls } from '../common/outbound-urls';
import { validate } from '../common/validate';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { PluginRegistry } from '../plugins/plugin-registry';
import { channelAddresses, upsertUserSchemaFor } from './channel-addresses';
import { ownUser } from './own-user';
import { registerDeviceSchema, topicParam, userIdParam } from './user-schemas';
import { UsersService } from './users.service';

@Controller('v1/users')
@RequireApiKey()
export class UsersController {
  constructor(
    private readonly users: UsersService,
    @Inject(ENV) private readonly env: Env,
    private readonly plugins: PluginRegistry,
  ) {}

  @Put(':userId')
  @ClientKeyAllowed()
  async upsert(
    @CurrentAuth() auth: AuthContext,
    @Param('userId') userId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const id = ownUser(auth, userId);
    const input = validate(upsertUserSchemaFor(this.plugins), body ?? {});
    const addresses = channelAddresses(this.plugins, input.addresses);
    if (auth.kind === 'client') {
      // A publishable key is in every copy of the app: a webhookUrl would make the server post
      // wherever a user named (SSRF); an unverified phone or e-mail would make it message anyone.
      // A plugin channel's address is one of these kinds too.
      const refused = [
        ...(['webhookUrl', 'email', 'phone'] as const).filter((f) => input[f] !== undefined),
        ...addresses.map((a) => `addresses.${a.channel}`),
      ];
      if (refused.length > 0)
        throw forbidden(
          `client keys may not set ${refused.join(', ')}: set them with a server key from your backend, once verified`,
        );
    }
    assertOutboundUrls(this.env, [
      { path: 'body.webhookUrl', url: input.webhookUrl },
      ...addresses
        .filter((a) => a.kind === 'url')
        .map((a) => ({ path: `body.addresses.${a.channel}`, url: a.address })),
    ]);
    const { created } = await this.users.upsert(auth.appId, id, input, addresses);
    void reply.status(created ? 201 : 200);
    return this.users.get(auth.appId, id);
  }

  @Get(':userId')
  @ClientKeyAllowed()
  async get(@CurrentAuth() auth: AuthContext, @Param('userId') userId: string) {
    const user = await this.users.get(auth.appId, ownUser(auth, userId));
    if (!user) throw notFound('user');
    return user;
  }

  @Delete(':userId')
  @HttpCode(204)
  async delete(@CurrentAuth() auth: AuthContext, @Param('userId') userId: string) {
    if (!(await this.users.delete(auth.appId, validate(userIdParam, userId, 'userId'))))
      throw notFound('user');
  }

  @Post(':userId/devices')
  @ClientKeyAllowed()
  async registerDevice(
    @CurrentAuth() auth: AuthContext,
    @Param('userId') userId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const id = ownUser(auth, userId);
    const device = validate(registerDeviceSchema, body);
    if (device.platform === 'web')
      assertOutboundUrls(this.env, [
        { path: 'body.subscription.endpoint', url: device.subscription.endpoint },
      ]);
    // A client may not take over a token another user registered (it would receive their pushes).
    const result = await this.users.registerDevice(auth.appId, id, device, auth.kind === 'server');
    void reply.status(result.created ? 201 : 200);
    return { id: result.id, platform: device.platform };
  }

  @Delete(':userId/devices/:deviceId')
  @ClientKeyAllowed()
  @HttpCode(204)
  async removeDevice(
    @CurrentAuth() auth: AuthContext,
    @Param('userId') userId: string,
    @Param('deviceId') deviceId: string,
  ) {
    const id = ownUser(auth, userId);
    if (!UUID.test(deviceId) || !(await this.users.removeDevice(auth.appId, id, deviceId)))
      throw notFound('device');
  }

  @Put(':userId/topics/:topic')
  @ClientKeyAllowed()
  @HttpCode(204)
  async subscribe(
    @CurrentAuth() auth: AuthContext,
    @Param('userId') userId: string,
    @Param('topic') topic: string,
  ) {
    await this.users.subscribe(auth.appId, ownUser(auth, userId), validate(topicParam, topic, 'topic'));
  }

  @Delete(':userId/topics/:topic')
  @ClientKeyAllowed()
  @HttpCode(204)
  async unsubscribe(
    @CurrentAuth() auth: AuthContext,
    @Param('userId') userId: string,
    @Param('topic') topic: string,
  ) {
    if (
      !(await this.users.unsubscribe(auth.appId, ownUser(auth, userId), validate(topicParam, topic, 'topic')))
    )
      throw notFound('subscription');
  }
}
