import {
  CallbackNotConfigured,
  callbackParams,
  defineCallbacks,
  type InboundReply,
  type ReceiptStep,
  secret,
} from '@clarion/plugin-sdk';
import { validateRequest } from 'twilio/lib/webhooks/webhooks';
import { z } from 'zod';
import { errorCodeOf, INVALID_NUMBER, OPTED_OUT, TRANSIENT } from './error-codes';

/** The delivery id rides on the status callback URL (plugin.ts), so a callback that overtakes our `sent` record finds it. */
const DELIVERY_PARAM = 'clarionDelivery';

/**
 * Maps a status callback onto the lifecycle. Twilio's in-between statuses (queued, accepted,
 * sending, scheduled) are no step of ours; `read` (WhatsApp/RCS) counts as opened.
 */
export function twilioStep(
  params: Record<string, string>,
  deliveryId: string | undefined,
): ReceiptStep | null {
  const status = params.MessageStatus ?? params.SmsStatus;
  const providerMessageId = params.MessageSid ?? params.SmsSid;
  if (!status || (!providerMessageId && !deliveryId)) return null;
  const base = {
    ...(deliveryId ? { deliveryId } : {}),
    ...(providerMessageId ? { providerMessageId } : {}),
    detail: { providerStatus: status },
  };
  switch (status) {
    case 'sent':
      return { ...base, status: 'sent' };
    case 'delivered':
      return { ...base, status: 'delivered' };
    case 'read':
      return { ...base, status: 'opened' };
    case 'undelivered':
    case 'failed': {
      const code = params.ErrorCode;
      const n = errorCodeOf(code);
      const reason =
        n === OPTED_OUT
          ? 'opted_out'
          : n !== undefined && INVALID_NUMBER.has(n)
            ? 'invalid_address'
            : 'undelivered';
      return {
        ...base,
        status: 'failed',
        reason,
        ...(code ? { errorCode: code } : {}),
        errorMessage: `Twilio reported the message ${status}${code ? ` (error ${code})` : ''}`,
        retryable: n !== undefined && TRANSIENT.has(n),
        ...(reason === 'invalid_address' ? { disableContact: `twilio_${code}` } : {}),
        ...(reason === 'opted_out' ? { optOut: 'sms_stop' } : {}),
      };
    }
    default:
      return null;
  }
}

/**
 * Twilio's standard opt-out and opt-in keywords (Advanced Opt-Out defaults): after a `stop` word
 * Twilio refuses to send to the number, after a `start` word it sends again.
 */
const KEYWORDS = new Map<string, 'stop' | 'start'>([
  ...['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'].map(
    (w) => [w, 'stop'] as const,
  ),
  ...['START', 'YES', 'UNSTOP'].map((w) => [w, 'start'] as const),
]);

/** Whether an inbound SMS is an opt-out or opt-in keyword, and which. */
export function smsKeyword(body: string | undefined): 'stop' | 'start' | undefined {
  return body === undefined ? undefined : KEYWORDS.get(body.trim().toUpperCase());
}

const settings = z.object({
  /** The account's auth token: Twilio signs callbacks with it (shared with the send settings). */
  authToken: secret().optional(),
  /** The auth token to verify callbacks with when sending uses an API key instead (no authToken). */
  callbackAuthToken: secret().optional(),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `…/twilio/status`: status callbacks (X-Twilio-Signature, HMAC-SHA1 of the URL and form fields).
 * `…/twilio/inbound`: the number's "A message comes in" webhook; STOP opts the sender out of SMS,
 * START (YES, UNSTOP) takes that back, as Twilio itself sends to the number again. An app with its
 * own Twilio account (integration) signs its status callbacks with its own token.
 */
export const twilioCallbacks = defineCallbacks({
  settings,
  async verify(request, ctx) {
    const token = ctx.settings.callbackAuthToken ?? ctx.settings.authToken;
    const signature = request.headers['x-twilio-signature'];
    const params = callbackParams(request.body);
    if (token && signature && validateRequest(token, signature, request.url, params)) return true;
    const deliveryId = request.query[DELIVERY_PARAM];
    if (request.path === 'status' && signature && deliveryId && UUID.test(deliveryId)) {
      const app = (await ctx.appConfigOf(deliveryId)) as { authToken?: string } | undefined;
      if (app?.authToken && validateRequest(app.authToken, signature, request.url, params)) return true;
    }
    if (!token)
      throw new CallbackNotConfigured('no Twilio auth token is configured, so no callback can be verified');
    return false;
  },
  parse(request) {
    const params = callbackParams(request.body);
    if (request.path === 'inbound') {
      const keyword = smsKeyword(params.Body);
      const replies: InboundReply[] =
        keyword && params.From
          ? [{ from: params.From, action: keyword === 'stop' ? 'opt_out' : 'opt_in', source: 'sms_stop' }]
          : [];
      // Empty TwiML: Twilio itself answers STOP with its opt-out confirmation.
      return {
        replies,
        answer: {
          contentType: 'text/xml',
          body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
        },
      };
    }
    const deliveryId = request.query[DELIVERY_PARAM];
    const step = twilioStep(params, deliveryId && UUID.test(deliveryId) ? deliveryId : undefined);
    return { steps: step ? [step] : [], received: 1 };
  },
});
