import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

/**
 * SendGrid's signed Event Webhook: ECDSA P-256 with SHA-256 over `timestamp + rawBody`, the
 * DER signature base64-encoded. The public key is published base64 (DER SubjectPublicKeyInfo),
 * which is what `@sendgrid/eventwebhook` `convertPublicKeyToECDSA` takes.
 */
export class SendgridEventSigner {
  private readonly privateKey: KeyObject;
  readonly publicKeyBase64: string;

  constructor() {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    this.privateKey = pair.privateKey;
    this.publicKeyBase64 = pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  }

  sign(timestamp: string, body: string): string {
    return sign('sha256', Buffer.from(timestamp + body, 'utf8'), {
      key: this.privateKey,
      dsaEncoding: 'der',
    }).toString('base64');
  }
}

export interface SendgridEvent {
  email: string;
  timestamp: number;
  event: 'processed' | 'delivered' | 'bounce' | 'dropped' | 'deferred';
  sg_event_id: string;
  sg_message_id: string;
  'smtp-id': string;
  category?: string[];
  reason?: string;
  status?: string;
  type?: string;
  /** custom_args appear as top-level keys of each event. */
  [customArg: string]: unknown;
}

/** One event as SendGrid would post it; `custom_args` are flattened into the event. */
export function sendgridEvent(
  event: SendgridEvent['event'],
  email: string,
  messageId: string,
  customArgs: Record<string, string>,
  categories: string[],
  extra: Record<string, string> = {},
): SendgridEvent {
  return {
    ...customArgs,
    email,
    timestamp: Math.floor(Date.now() / 1000),
    event,
    sg_event_id: randomBytes(16).toString('base64url'),
    sg_message_id: `${messageId}.filterdrecv-sandbox-1-${randomBytes(4).toString('hex')}.0`,
    'smtp-id': `<${messageId}@sandbox.sendgrid.net>`,
    ...(categories.length > 0 ? { category: categories } : {}),
    ...extra,
  };
}
