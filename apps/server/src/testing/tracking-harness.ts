import { pluginEnvName } from '@clarion/plugin-sdk';
import {
  mailchimpFake,
  Sandbox,
  type SendgridFake,
  sendgridFake,
  type TwilioFake,
  twilioFake,
  vonageFake,
} from '@clarion/sandbox';
import { freePort, waitFor } from '@clarion/testkit';
import type { EventView } from '../deliveries/event-view';
import { type Harness, json, pluginEnvOf, startHarness, type TestApp } from './harness';

export const MAILCHIMP_KEY = 'test-mandrill-webhook-key';
export const VONAGE_SECRET = 'test-vonage-signature-secret';

export interface TrackingHarness {
  h: Harness;
  messaging: Sandbox;
  twilio: TwilioFake;
  sendgrid: SendgridFake;
  close(): Promise<void>;
}

/**
 * The server with the twilio and sendgrid plugins pointed at their sandbox fakes, which call
 * the server's callback endpoints back (signed) like the real providers. The port is chosen
 * first because the callback URLs are part of the plugins' configuration.
 */
export async function startTrackingHarness(
  label: string,
  env: Record<string, string> = {},
  twilioAccounts?: Record<string, string>,
): Promise<TrackingHarness> {
  const twilio = twilioFake(twilioAccounts ? { accounts: twilioAccounts } : {});
  const sendgrid = sendgridFake();
  // Mailchimp and Vonage too: a plugin's callbacks are served while it is loaded.
  const messaging = await Sandbox.start({ fakes: [twilio, sendgrid, mailchimpFake(), vonageFake()] });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const pluginEnv = pluginEnvOf(messaging.pluginConfigs());
  pluginEnv[pluginEnvName('twilio', 'statusCallbackUrl')] = `${base}/v1/callbacks/twilio/status`;
  sendgrid.setEventWebhookUrl(`${base}/v1/callbacks/sendgrid`);
  const h = await startHarness({
    label,
    env: {
      PORT: String(port),
      CLARION_PUBLIC_URL: base,
      CLARION_PLUGINS:
        '@clarion/plugin-webhook,@clarion/plugin-twilio,@clarion/plugin-sendgrid,@clarion/plugin-mailchimp,@clarion/plugin-vonage',
      // The core's former names of the plugins' callback settings, still read (plugins/callback-settings.ts).
      CLARION_CALLBACK_SENDGRID_PUBLIC_KEY: sendgrid.eventPublicKey,
      CLARION_CALLBACK_MAILCHIMP_KEY: MAILCHIMP_KEY,
      CLARION_CALLBACK_VONAGE_SECRET: VONAGE_SECRET,
      ...pluginEnv,
      ...env,
    },
  });
  return {
    h,
    messaging,
    twilio,
    sendgrid,
    async close() {
      await h.close();
      await messaging.stop();
    },
  };
}

export interface DeliveryView {
  id: string;
  channel: string;
  plugin: string | null;
  status: string;
  reason: string | null;
  providerMessageId: string | null;
  errorCode: string | null;
  events: EventView[];
}

/** Sends and returns the notification id. */
export async function send(app: TestApp, body: unknown): Promise<string> {
  const res = await app.call('/v1/notifications', { body });
  if (res.status !== 202) throw new Error(`send: ${res.status} ${await res.text()}`);
  return (await json<{ id: string }>(res)).id;
}

/** Waits until the notification's only delivery (of `channel`) satisfies `done`. */
export async function deliveryOf(
  app: TestApp,
  notificationId: string,
  done: (d: DeliveryView) => boolean,
  what = 'delivery',
): Promise<DeliveryView> {
  return waitFor(what, async () => {
    const view = await json<{ deliveries: DeliveryView[] }>(
      await app.call(`/v1/notifications/${notificationId}`),
    );
    const d = view.deliveries[0];
    return d && done(d) ? d : undefined;
  });
}
