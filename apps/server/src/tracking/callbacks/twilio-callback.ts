import { validateRequest } from 'twilio/lib/webhooks/webhooks';
import type { TrackedStep } from '../tracking-recorder';

/** Twilio errors that mean the number is dead (disable the contact) and the one that means STOP. */
const INVALID_NUMBER = new Set(['21211', '21614', '30005', '30006']);
const OPTED_OUT = '21610';
const TRANSIENT = new Set(['30003', '30008']);

/** True if `signature` is Twilio's HMAC-SHA1 of the URL and the form params. */
export function verifyTwilio(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: Record<string, string>,
): boolean {
  if (!signature) return false;
  return validateRequest(authToken, signature, url, params);
}

/**
 * Maps a status callback onto the lifecycle. Twilio's in-between statuses (queued, accepted,
 * sending, scheduled) are no step of ours; `read` (WhatsApp/RCS) counts as opened.
 */
export function twilioStep(
  params: Record<string, string>,
  deliveryId: string | undefined,
): TrackedStep | null {
  const status = params.MessageStatus ?? params.SmsStatus;
  const providerMessageId = params.MessageSid ?? params.SmsSid;
  if (!status || (!providerMessageId && !deliveryId)) return null;
  const base = { deliveryId, providerMessageId, source: 'twilio', detail: { providerStatus: status } };
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
      const reason =
        code === OPTED_OUT
          ? 'opted_out'
          : code && INVALID_NUMBER.has(code)
            ? 'invalid_address'
            : 'undelivered';
      return {
        ...base,
        status: 'failed',
        reason,
        errorCode: code,
        errorMessage: `Twilio reported the message ${status}${code ? ` (error ${code})` : ''}`,
        retryable: code ? TRANSIENT.has(code) : false,
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
