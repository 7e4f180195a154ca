import {
  CallbackNotConfigured,
  callbackParams,
  defineCallbacks,
  type ReceiptStep,
} from '@clarion/plugin-sdk';
import { AlgorithmTypes } from '@vonage/auth';
import { SMS } from '@vonage/sms';
import { z } from 'zod';

const METHOD: Record<string, AlgorithmTypes> = {
  md5hash: AlgorithmTypes.md5hash,
  md5: AlgorithmTypes.md5hmac,
  sha1: AlgorithmTypes.sha1hmac,
  sha256: AlgorithmTypes.sha256hmac,
  sha512: AlgorithmTypes.sha512hmac,
};

// verifySignature uses no credentials; the SDK only wants some to construct the client. An empty
// privateKey: without one, @vonage/auth calls fs.existsSync(undefined), a deprecation warning at every start.
let sms: SMS | undefined;
const verifierClient = () => {
  sms ??= new SMS({ apiKey: 'verify-only', apiSecret: 'verify-only', privateKey: '' });
  return sms;
};

/**
 * Vonage signed webhooks: `sig` over the sorted params with the signature secret; `timestamp` within
 * `maxAgeSeconds` of now, so a captured receipt cannot be replayed later.
 */
export function verifyVonage(
  secret: string,
  algorithm: string,
  params: Record<string, string>,
  maxAgeSeconds: number,
  nowMs = Date.now(),
): boolean {
  const sig = params.sig;
  const ts = Number(params.timestamp);
  if (!sig || !Number.isFinite(ts) || Math.abs(nowMs / 1000 - ts) > maxAgeSeconds) return false;
  try {
    return verifierClient().verifySignature(sig, params, secret, METHOD[algorithm] ?? AlgorithmTypes.md5hash);
  } catch {
    return false;
  }
}

/** err-code values that mean the number is dead. */
const DEAD_NUMBER = new Set(['3', '9']);

/** Maps an SMS API delivery receipt; accepted/buffered/unknown are no step of ours. */
export function vonageStep(params: Record<string, string>): ReceiptStep | null {
  const deliveryId = params['client-ref'] || undefined;
  const providerMessageId = params.messageId || undefined;
  if (!deliveryId && !providerMessageId) return null;
  const base = {
    ...(deliveryId ? { deliveryId } : {}),
    ...(providerMessageId ? { providerMessageId } : {}),
    detail: { providerStatus: params.status ?? '' },
  };
  switch (params.status) {
    case 'delivered':
      return { ...base, status: 'delivered' };
    case 'expired':
    case 'failed':
    case 'rejected': {
      const code = params['err-code'];
      const dead = !!code && DEAD_NUMBER.has(code);
      return {
        ...base,
        status: 'failed',
        reason: dead ? 'invalid_address' : params.status === 'expired' ? 'undelivered' : params.status,
        ...(code ? { errorCode: code } : {}),
        errorMessage: `Vonage reported the message ${params.status}${code ? ` (err-code ${code})` : ''}`,
        ...(dead ? { disableContact: `vonage_${code}` } : {}),
      };
    }
    default:
      return null;
  }
}

/** Vonage delivery receipts at `/v1/callbacks/vonage`: GET query, form or JSON, per the account's settings. */
export const vonageCallbacks = defineCallbacks({
  settings: z.object({
    /** The signature secret of signed webhooks (Vonage dashboard). */
    callbackSecret: z.string().min(1).optional(),
    /** Its method, as set in the dashboard. */
    callbackAlgorithm: z.enum(['md5hash', 'md5', 'sha1', 'sha256', 'sha512']).default('md5hash'),
    /** A receipt signed further than this from now is refused: no replays. */
    callbackMaxAgeSeconds: z.coerce.number().int().positive().default(300),
  }),
  verify(request, { settings }) {
    if (!settings.callbackSecret)
      throw new CallbackNotConfigured(
        'no Vonage signature secret is configured, so no callback can be verified',
      );
    return verifyVonage(
      settings.callbackSecret,
      settings.callbackAlgorithm,
      callbackParams(request.query, request.body),
      settings.callbackMaxAgeSeconds,
    );
  },
  parse(request) {
    const step = vonageStep(callbackParams(request.query, request.body));
    return { steps: step ? [step] : [], received: 1 };
  },
});
