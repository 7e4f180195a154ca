import { Controller, Get, Head, HttpCode, Inject, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IntegrationsService } from '../../apps/integrations.service';
import { ApiError, badRequest } from '../../common/api-error';
import { UUID } from '../../common/ids';
import type { Env } from '../../config/env';
import { ENV } from '../../config/tokens';
import { UserRepository } from '../../contacts/user-repository';
import { DeliveryQueries } from '../../deliveries/delivery-queries';
import { PluginRegistry } from '../../plugins/plugin-registry';
import { PreferenceRepository } from '../../preferences/preference-repository';
import { TrackingMetrics } from '../tracking-metrics';
import { type TrackedStep, TrackingRecorder } from '../tracking-recorder';
import { signedUrl, stringParams } from './callback-urls';
import { mandrillEvents, mandrillStep, verifyMandrill } from './mailchimp-callback';
import { sendgridEvents, sendgridStep, verifySendgrid } from './sendgrid-callback';
import { smsKeyword, twilioStep, verifyTwilio } from './twilio-callback';
import { verifyVonage, vonageStep } from './vonage-callback';

const badSignature = () => new ApiError(401, 'bad_signature', 'missing or invalid provider signature');
const notConfigured = (what: string) =>
  new ApiError(401, 'callback_not_configured', `no ${what} is configured, so no callback can be verified`);

/**
 * Public endpoints the providers call; no app key, each authenticated by its provider's
 * signature. They answer 200 to anything correctly signed (also to events about unknown
 * deliveries: a retry would not make them known), so providers do not retry needlessly.
 */
@Controller('v1/callbacks')
export class ProviderCallbacksController {
  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly recorder: TrackingRecorder,
    private readonly metrics: TrackingMetrics,
    private readonly plugins: PluginRegistry,
    private readonly deliveries: DeliveryQueries,
    private readonly users: UserRepository,
    private readonly prefs: PreferenceRepository,
    private readonly integrations: IntegrationsService,
  ) {}

  private twilioToken(): string | undefined {
    if (this.env.CLARION_CALLBACK_TWILIO_AUTH_TOKEN) return this.env.CLARION_CALLBACK_TWILIO_AUTH_TOKEN;
    const config = this.plugins.loaded.find((l) => l.plugin.name === 'twilio')?.config as
      | { authToken?: string }
      | undefined;
    return config?.authToken;
  }

  private check(provider: string, ok: boolean): void {
    if (!ok) {
      this.metrics.callbacks.inc({ provider, outcome: 'bad_signature' });
      throw badSignature();
    }
  }

  private async record(provider: string, steps: (TrackedStep | null)[]) {
    const valid = steps.filter((s): s is TrackedStep => s !== null);
    const results = await this.recorder.recordAll(valid);
    this.metrics.callbacks.inc({ provider, outcome: 'accepted' });
    return {
      received: steps.length,
      changed: results.filter((r) => r === 'changed').length,
      unknown: results.filter((r) => r === 'unknown').length,
    };
  }

  @Post('twilio/status')
  @HttpCode(200)
  async twilioStatus(
    @Req() request: FastifyRequest,
    @Query('clarionDelivery') rawDeliveryId: string | undefined,
  ) {
    const deliveryId = rawDeliveryId && UUID.test(rawDeliveryId) ? rawDeliveryId : undefined;
    const params = stringParams(request.body);
    const signature = header(request, 'x-twilio-signature');
    const url = signedUrl(request, this.env.CLARION_PUBLIC_URL);
    const token = this.twilioToken();
    let ok = !!token && verifyTwilio(token, signature, url, params);
    // An app with its own Twilio account (integration): its callbacks are signed with its own token.
    if (!ok && deliveryId && signature) {
      const appToken = await this.appTwilioToken(deliveryId);
      ok = !!appToken && verifyTwilio(appToken, signature, url, params);
    }
    if (!token && !ok) throw notConfigured('Twilio auth token');
    this.check('twilio', ok);
    return this.record('twilio', [twilioStep(params, deliveryId)]);
  }

  private async appTwilioToken(deliveryId: string): Promise<string | undefined> {
    const appId = await this.deliveries.appOf(deliveryId);
    if (!appId) return undefined;
    const config = (await this.integrations.resolve(appId, 'twilio')) as { authToken?: string } | undefined;
    return config?.authToken;
  }

  /**
   * Inbound SMS (the number's "A message comes in" webhook): STOP opts every user with that phone out
   * of SMS; START (or YES, UNSTOP) takes back what STOP did, as Twilio itself sends to the number again.
   */
  @Post('twilio/inbound')
  @HttpCode(200)
  async twilioInbound(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const token = this.twilioToken();
    if (!token) throw notConfigured('Twilio auth token');
    const params = stringParams(request.body);
    this.check(
      'twilio',
      verifyTwilio(
        token,
        header(request, 'x-twilio-signature'),
        signedUrl(request, this.env.CLARION_PUBLIC_URL),
        params,
      ),
    );
    this.metrics.callbacks.inc({ provider: 'twilio', outcome: 'accepted' });
    const keyword = smsKeyword(params.Body);
    if (keyword && params.From) {
      const users = await this.users.byPhone(params.From);
      await this.prefs.transaction(async (tx) => {
        for (const u of users) {
          if (keyword === 'stop')
            await tx.optOut({
              appId: u.appId,
              userId: u.userId,
              channel: 'sms',
              category: '*',
              source: 'sms_stop',
            });
          else await tx.withdrawOptOut({ userId: u.userId, channel: 'sms', source: 'sms_stop' });
        }
      });
    }
    // Empty TwiML: Twilio itself answers STOP with its opt-out confirmation.
    void reply.type('text/xml');
    return '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
  }

  @Post('sendgrid')
  @HttpCode(200)
  async sendgrid(@Req() request: FastifyRequest) {
    const key = this.env.CLARION_CALLBACK_SENDGRID_PUBLIC_KEY;
    if (!key) throw notConfigured('SendGrid verification key');
    this.check(
      'sendgrid',
      verifySendgrid(
        key,
        request.rawBody,
        header(request, 'x-twilio-email-event-webhook-signature'),
        header(request, 'x-twilio-email-event-webhook-timestamp'),
        this.env.CLARION_CALLBACK_MAX_AGE_SECONDS,
      ),
    );
    const events = sendgridEvents.safeParse(request.body);
    if (!events.success) {
      this.metrics.callbacks.inc({ provider: 'sendgrid', outcome: 'invalid' });
      throw badRequest('expected a JSON array of SendGrid events');
    }
    return this.record('sendgrid', events.data.map(sendgridStep));
  }

  /** Mandrill checks a webhook URL with HEAD when it is added. */
  @Head('mailchimp')
  @HttpCode(200)
  mailchimpProbe() {
    return '';
  }

  @Post('mailchimp')
  @HttpCode(200)
  async mailchimp(@Req() request: FastifyRequest) {
    const key = this.env.CLARION_CALLBACK_MAILCHIMP_KEY;
    if (!key) throw notConfigured('Mailchimp Transactional webhook key');
    const params = stringParams(request.body);
    this.check(
      'mailchimp',
      verifyMandrill(
        key,
        header(request, 'x-mandrill-signature'),
        signedUrl(request, this.env.CLARION_PUBLIC_URL),
        params,
      ),
    );
    let parsed: unknown;
    try {
      parsed = JSON.parse(params.mandrill_events ?? '');
    } catch {
      parsed = undefined;
    }
    const events = mandrillEvents.safeParse(parsed);
    if (!events.success) {
      this.metrics.callbacks.inc({ provider: 'mailchimp', outcome: 'invalid' });
      throw badRequest('expected mandrill_events: a JSON array of events');
    }
    return this.record('mailchimp', events.data.map(mandrillStep));
  }

  /** Vonage posts receipts as GET query, form or JSON, per the account's settings. */
  @Get('vonage')
  @HttpCode(200)
  vonageGet(@Req() request: FastifyRequest) {
    return this.vonage(request);
  }

  @Post('vonage')
  @HttpCode(200)
  vonagePost(@Req() request: FastifyRequest) {
    return this.vonage(request);
  }

  private async vonage(request: FastifyRequest) {
    const secret = this.env.CLARION_CALLBACK_VONAGE_SECRET;
    if (!secret) throw notConfigured('Vonage signature secret');
    const params = stringParams(request.query, request.body);
    this.check(
      'vonage',
      verifyVonage(
        secret,
        this.env.CLARION_CALLBACK_VONAGE_ALGORITHM,
        params,
        this.env.CLARION_CALLBACK_MAX_AGE_SECONDS,
      ),
    );
    return this.record('vonage', [vonageStep(params)]);
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
