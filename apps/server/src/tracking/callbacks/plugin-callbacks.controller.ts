import {
  type AnyChannelPlugin,
  type CallbackRequest,
  type CallbackResult,
  callbackErrorKind,
  callbackParams,
  type InboundReply,
} from '@clarion/plugin-sdk';
import { Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IntegrationsService } from '../../apps/integrations.service';
import { ApiError } from '../../common/api-error';
import { UUID } from '../../common/ids';
import type { Env } from '../../config/env';
import { ENV } from '../../config/tokens';
import { UserRepository } from '../../contacts/user-repository';
import { DeliveryQueries } from '../../deliveries/delivery-queries';
import { CORE_CHANNELS } from '../../plugins/core-channels';
import { PluginRegistry } from '../../plugins/plugin-registry';
import { PreferenceRepository } from '../../preferences/preference-repository';
import { TrackingMetrics } from '../tracking-metrics';
import { type TrackedStep, TrackingRecorder } from '../tracking-recorder';
import { signedUrl } from './callback-urls';

const SUB_PATH = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * `/v1/callbacks/<plugin>` (and one path segment below it): receipts and inbound replies for any
 * plugin that declares `callbacks`. The plugin verifies the signature and parses the payload; the
 * server records the steps and applies STOP/START. No app key: the signature authenticates.
 * Routes with a fixed path in ProviderCallbacksController (`twilio/status`, `sendgrid`…) win over
 * these.
 */
@Controller('v1/callbacks')
export class PluginCallbacksController {
  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly plugins: PluginRegistry,
    private readonly recorder: TrackingRecorder,
    private readonly metrics: TrackingMetrics,
    private readonly deliveries: DeliveryQueries,
    private readonly users: UserRepository,
    private readonly prefs: PreferenceRepository,
    private readonly integrations: IntegrationsService,
  ) {}

  @Post(':plugin')
  @HttpCode(200)
  post(
    @Param('plugin') name: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.handle(name, '', request, reply);
  }

  @Post(':plugin/:path')
  @HttpCode(200)
  postBelow(
    @Param('plugin') name: string,
    @Param('path') path: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.handle(name, path, request, reply);
  }

  /** Some providers report with GET (query parameters), per account settings; HEAD probes the URL. */
  @Get(':plugin')
  @HttpCode(200)
  get(
    @Param('plugin') name: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.handle(name, '', request, reply);
  }

  private receiver(name: string, path: string) {
    const loaded = this.plugins.loaded.find((l) => l.plugin.name === name);
    const callbacks = loaded?.plugin.callbacks;
    if (!loaded || !callbacks || (path !== '' && !SUB_PATH.test(path)))
      throw new ApiError(404, 'not_found', `no loaded plugin named "${name}" receives callbacks here`);
    return { loaded, callbacks };
  }

  /** The integration settings of the app a delivery belongs to (providers signing per app). */
  private async appConfigOf(plugin: string, deliveryId: string): Promise<unknown> {
    if (!UUID.test(deliveryId)) return undefined;
    const appId = await this.deliveries.appOf(deliveryId);
    return appId ? this.integrations.resolve(appId, plugin) : undefined;
  }

  private async handle(name: string, path: string, request: FastifyRequest, reply: FastifyReply) {
    const { loaded, callbacks } = this.receiver(name, path);
    // Providers check a webhook URL with HEAD when it is added (Mandrill), served by the GET route:
    // nothing to verify, nothing recorded.
    if (request.method === 'HEAD') return '';
    const req: CallbackRequest = {
      method: request.method,
      path,
      url: signedUrl(request, this.env.CLARION_PUBLIC_URL),
      headers: Object.fromEntries(
        Object.entries(request.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]),
      ),
      query: callbackParams(request.query),
      body: request.body,
      rawBody: request.rawBody,
    };
    const ctx = {
      settings: loaded.callbackSettings ?? {},
      config: loaded.config,
      appConfigOf: (deliveryId: string) => this.appConfigOf(name, deliveryId),
    };
    let result: CallbackResult;
    try {
      if (!(await callbacks.verify(req, ctx))) {
        this.metrics.callbacks.inc({ provider: name, outcome: 'bad_signature' });
        throw new ApiError(401, 'bad_signature', 'missing or invalid provider signature');
      }
      result = await callbacks.parse(req, ctx);
    } catch (error) {
      const kind = callbackErrorKind(error);
      if (kind === 'not_configured')
        throw new ApiError(401, 'callback_not_configured', `plugin "${name}": ${(error as Error).message}`);
      if (kind === 'invalid_payload') {
        this.metrics.callbacks.inc({ provider: name, outcome: 'invalid' });
        throw new ApiError(400, 'invalid_callback', `plugin "${name}": ${(error as Error).message}`);
      }
      throw error;
    }
    const steps = (result.steps ?? []).map(
      (s): TrackedStep => ({
        ...s,
        // An id the server never issued matches nothing; it is not worth a failed batch.
        deliveryId: s.deliveryId && UUID.test(s.deliveryId) ? s.deliveryId : undefined,
        source: name,
      }),
    );
    const recorded = await this.recorder.recordAll(steps);
    await this.applyReplies(loaded.plugin, result.replies ?? []);
    this.metrics.callbacks.inc({ provider: name, outcome: 'accepted' });
    if (result.answer) {
      void reply.type(result.answer.contentType);
      return result.answer.body;
    }
    return {
      received: result.received ?? steps.length + (result.replies?.length ?? 0),
      changed: recorded.filter((r) => r === 'changed').length,
      unknown: recorded.filter((r) => r === 'unknown').length,
    };
  }

  /** STOP opts everyone reachable at the sender's address out of the plugin's channel; START takes back what STOP did. */
  private async applyReplies(plugin: AnyChannelPlugin, replies: InboundReply[]): Promise<void> {
    if (replies.length === 0) return;
    const isPluginChannel = !(CORE_CHANNELS as readonly string[]).includes(plugin.channel);
    await this.prefs.transaction(async (tx) => {
      for (const r of replies) {
        const kind = r.addressKind ?? plugin.addressKind;
        const source = r.source ?? `${plugin.name}_reply`;
        const users = await this.users.reachableAt(kind, isPluginChannel ? plugin.channel : null, r.from);
        for (const u of users) {
          if (r.action === 'opt_out')
            await tx.optOut({
              appId: u.appId,
              userId: u.userId,
              channel: plugin.channel,
              category: '*',
              source,
            });
          else await tx.withdrawOptOut({ userId: u.userId, channel: plugin.channel, source });
        }
      }
    });
  }
}
