import type { z } from 'zod';
import type { AddressKind } from './message';

/**
 * One request a provider made to the plugin's callback URL, `POST /v1/callbacks/<plugin>` (or
 * `…/<plugin>/<path>`, e.g. `…/twilio/inbound`). No app key: the plugin's `verify` is what
 * authenticates it.
 */
export interface CallbackRequest {
  method: string;
  /** What follows `/v1/callbacks/<plugin>`, without the leading slash: `''`, `'inbound'`… */
  path: string;
  /** The public URL the provider called (CLARION_PUBLIC_URL when set), query included: what signatures cover. */
  url: string;
  /** Lower-case header names; repeated headers give their first value. */
  headers: Record<string, string | undefined>;
  query: Record<string, string>;
  /** The parsed body: form fields as strings, JSON as sent. */
  body: unknown;
  /** The body's exact text (JSON and form posts), for signatures over the raw payload. */
  rawBody: string | undefined;
}

export interface CallbackContext<Settings> {
  /**
   * The callbacks' own settings (`PluginCallbacks.settings`), read from CLARION_<PLUGIN>_<KEY> in
   * every process that serves the API, also one holding none of the plugin's send credentials.
   */
  settings: Settings;
  /** The plugin's whole `config`, when this process has all of it (a worker, `all`); else undefined. */
  config: unknown;
  /**
   * The integration settings (`appConfig`) of the app a delivery belongs to, when it has one: for
   * providers that sign each app's callbacks with that app's own credentials.
   */
  appConfigOf(deliveryId: string): Promise<unknown>;
}

/** A delivery's step, as a provider's receipt reports it. */
export interface ReceiptStep {
  /** The delivery, when the provider echoes it (custom args, a query parameter of the callback URL)… */
  deliveryId?: string;
  /** …or the id the provider gave at send (`SendResult.providerMessageId`). */
  providerMessageId?: string;
  status: 'sent' | 'delivered' | 'opened' | 'clicked' | 'failed' | 'expired';
  /** For `failed`: `invalid_address`, `rejected`, `bounced`… */
  reason?: string;
  errorCode?: string;
  errorMessage?: string;
  retryable?: boolean;
  /** Small provider facts worth keeping on the delivery event. */
  detail?: Record<string, string | number | boolean>;
  /** Also disable the delivery's address (hard bounce, dead number), with this reason. */
  disableContact?: string;
  /** Also opt the user out of the delivery's channel (the provider says they replied STOP), with this source. */
  optOut?: string;
}

/** A message the user sent back: a STOP opts the address out of the plugin's channel, a START takes it back. */
export interface InboundReply {
  /** The sender's address as stored for users (a phone number in E.164, an e-mail address…). */
  from: string;
  /** Kind of `from`; default: the plugin's `addressKind`. */
  addressKind?: AddressKind;
  action: 'opt_out' | 'opt_in';
  /**
   * Kept on the opt-out, and what an opt-in takes back (opt-outs set another way stay).
   * Default `<plugin>_reply`.
   */
  source?: string;
}

/** What one callback request said. */
export interface CallbackResult {
  steps?: ReceiptStep[];
  replies?: InboundReply[];
  /** Events the request carried, counting ones that are no step of the lifecycle (default: steps + replies). */
  received?: number;
  /** The answer the provider expects (e.g. empty TwiML); default `200 {received, changed, unknown}`. */
  answer?: { contentType: string; body: string };
}

/**
 * Receiving from the provider: delivery receipts and inbound replies. The server serves these at
 * `/v1/callbacks/<plugin>` (and below it), answers 401 when `verify` says no, and records what
 * `parse` returns: steps move deliveries on, replies opt users in or out of the channel.
 */
export interface PluginCallbacks<Settings extends z.ZodObject = z.ZodObject> {
  /**
   * Settings the callbacks need (the secret to verify with…), read like `config` from
   * CLARION_<PLUGIN>_<KEY> (or `_FILE`) but on their own, so an API process holding none of the
   * send credentials has them. A key may be one of `config` too (the same variable). Make every
   * field optional: a missing secret is `CallbackNotConfigured` at the first callback, not a failed start.
   */
  settings?: Settings;
  /**
   * Checks the provider's signature. Return false for a missing or wrong one (the answer is 401
   * `bad_signature`); throw `CallbackNotConfigured` when the plugin has no secret to check with.
   */
  verify(request: CallbackRequest, ctx: CallbackContext<z.infer<Settings>>): boolean | Promise<boolean>;
  /**
   * Reads a verified request. Throw `CallbackPayloadError` for a payload the provider should not
   * retry as is (the answer is 400 `invalid_callback` with its message).
   */
  parse(
    request: CallbackRequest,
    ctx: CallbackContext<z.infer<Settings>>,
  ): CallbackResult | Promise<CallbackResult>;
}

/** Declares a plugin's callbacks with their settings typed (`ctx.settings`). */
export function defineCallbacks<S extends z.ZodObject>(callbacks: PluginCallbacks<S>): PluginCallbacks {
  return callbacks as unknown as PluginCallbacks;
}

/** Thrown by `verify` when no secret is configured: 401 `callback_not_configured`. */
export class CallbackNotConfigured extends Error {
  override name = 'CallbackNotConfigured';
  /** Recognised by brand, so a plugin with its own copy of the SDK is understood too. */
  readonly clarionCallbackError = 'not_configured' as const;
}

/** Thrown by `parse` for a malformed payload: 400 `invalid_callback`. */
export class CallbackPayloadError extends Error {
  override name = 'CallbackPayloadError';
  readonly clarionCallbackError = 'invalid_payload' as const;
}

/** Which of the two errors above `error` is, across SDK copies (by brand, not `instanceof`). */
export function callbackErrorKind(error: unknown): 'not_configured' | 'invalid_payload' | undefined {
  const brand = (error as { clarionCallbackError?: unknown } | null)?.clarionCallbackError;
  return brand === 'not_configured' || brand === 'invalid_payload' ? brand : undefined;
}

/**
 * Flattens a callback's query and body into strings (what signatures of form posts cover).
 * Providers post flat fields only: a nested value is no parameter of theirs and is left out.
 */
export function callbackParams(...sources: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of sources) {
    if (!source || typeof source !== 'object' || Array.isArray(source)) continue;
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      const first = Array.isArray(v) ? v[0] : v;
      if (typeof first === 'string' || typeof first === 'number' || typeof first === 'boolean')
        out[k] = String(first);
    }
  }
  return out;
}
