import type { z } from 'zod';
import type { PluginCallbacks } from './callbacks';
import type { PluginLogger } from './logger';
import type { AddressKind, DeliveryJob, Platform } from './message';
import type { PluginMetricsFactory } from './metrics';
import type { OutboundPolicy } from './outbound/policy';

/** BullMQ processing settings for a plugin's queue. */
export interface ProcessorSettings {
  /** Jobs processed at once by one worker process. */
  concurrency?: number;
  /** Queue-wide send rate (shared by every worker of this plugin): at most `max` per `durationMs`. */
  limiter?: { max: number; durationMs: number };
  /** Attempts before a retryable failure becomes final. */
  attempts?: number;
  /** Exponential backoff with full jitter: base * 2^(attempt-1), capped. */
  backoff?: { baseMs: number; maxMs: number };
}

/** What `send` gets beside the job: the app's settings, which attempt this is, a logger bound to the delivery. */
export interface SendContext<AppConfig> {
  /** Per-app integration settings (credentials, topic…), validated by `appConfig`, when the app has one. */
  appConfig: AppConfig | undefined;
  /** 1 for the first try. */
  attempt: number;
  log: PluginLogger;
}

/** What a successful `send` returns; both fields optional. */
export interface SendResult {
  /** The provider's id for the message (callbacks and support requests refer to it). */
  providerMessageId?: string;
  /** Small provider facts worth keeping on the delivery event (segments, provider status). */
  details?: Record<string, string | number | boolean>;
}

/** A plugin's connection to its provider, made once per process by `createSender` and shared by every job. */
export interface Sender<AppConfig> {
  /** Sends one delivery; throws RetryableError, PermanentError or InvalidAddressError. */
  send(job: DeliveryJob, ctx: SendContext<AppConfig>): Promise<SendResult>;
  /** Releases pooled connections. Called once on shutdown. */
  close(): Promise<void>;
}

/** What `createSender` gets from the host. */
export interface SenderFactoryContext<Config, Metrics> {
  /** The process-wide settings, parsed by the plugin's `config` schema. */
  config: Config;
  /** A pino-compatible logger bound to the plugin (never log secrets). */
  log: PluginLogger;
  /** What the plugin's `metrics` hook returned (undefined without one). */
  metrics: Metrics;
  /**
   * Where a plugin that connects to user- or tenant-chosen URLs may connect (see outbound/).
   * Given by the host; absent means strict (public addresses only).
   */
  outbound?: OutboundPolicy;
}

/**
 * A channel plugin: one provider for one channel. Declare it with `defineChannelPlugin` and export
 * it as the package's default export; the host loads it by package name (CLARION_PLUGINS).
 */
export interface ChannelPlugin<
  ConfigSchema extends z.ZodType = z.ZodType,
  AppConfigSchema extends z.ZodType = z.ZodType,
  Metrics = unknown,
> {
  /** Unique, kebab-case. Queue `clarion.<name>`, metrics label plugin="<name>". */
  name: string;
  /** The plugin package's version (for logs and compatibility reports). */
  version: string;
  /** semver range of @clarion/plugin-sdk this plugin was built against; checked at start. */
  sdkVersion: string;
  /**
   * `push`, `web`, `sms`, `email`, `webhook`, or a channel the plugin adds (`slack`, `whatsapp`…).
   * A new channel becomes usable as soon as the plugin is loaded: `content.<channel>` and
   * `channels: ["<channel>"]` in a notification, `addresses.<channel>` on a user, preferences.
   */
  channel: string;
  /** For push plugins: which device platforms it serves. */
  platforms?: Platform[];
  /**
   * What kind of address its deliveries carry (`job.address.kind`). On a channel the plugin adds,
   * users store one address of this kind for the channel (`PUT /v1/users/:id` with
   * `addresses: {<channel>: "…"}`), kept apart from their e-mail, phone and webhookUrl, with its
   * own disabled state; `device` is not possible there (devices belong to push and web).
   */
  addressKind: AddressKind;
  /**
   * On a channel the plugin adds: the schema of a user's address for it (a string), checked when
   * it is stored; a refusal is a 400 naming `addresses.<channel>`. Default by `addressKind`: an
   * e-mail address, an E.164 number, an http(s) URL. Ignored on the core channels.
   *
   * @example z.url().regex(/^https:\/\/hooks\.slack\.com\//, 'a Slack incoming-webhook URL')
   */
  addressSchema?: z.ZodType<string>;
  /**
   * On a channel the plugin adds: the schema of `content.<channel>` in notifications, checked at
   * the API (a 400 naming the field, nothing stored). String fields may hold Liquid
   * (`{{ user.name }}`): they are rendered per recipient before the job reaches `send`, where
   * `job.content` is this object rendered. Default: `{ text?: string, json?: any JSON }`, one of them
   * required. Ignored on the core channels (their content is the core's).
   *
   * @example z.object({ text: z.string().min(1).max(3000), blocks: z.array(z.unknown()).optional() }).strict()
   */
  contentSchema?: z.ZodType<Record<string, unknown>>;
  /**
   * Receiving from the provider (delivery receipts, inbound replies such as STOP/START), served at
   * `/v1/callbacks/<name>`. Absent: the plugin receives nothing.
   */
  callbacks?: PluginCallbacks;
  /** Process-wide configuration (from environment variables or files). */
  config: ConfigSchema;
  /** Per-app integration settings stored encrypted by the core (optional). */
  appConfig?: AppConfigSchema;
  /** Queue settings (concurrency, rate limit, attempts, backoff); DEFAULT_PROCESSOR fills the rest. */
  processor?: ProcessorSettings;
  /**
   * For plugins whose destination is chosen per message (a webhook URL, a Web Push endpoint): the
   * destination a delivery goes to, e.g. its URL's origin. The circuit breaker then counts failures
   * per destination, so one tenant's failing receiver never holds back the others' deliveries.
   * Absent: one breaker for the whole plugin (its provider).
   */
  circuitKey?: (job: DeliveryJob, appConfig: z.infer<AppConfigSchema> | undefined) => string | undefined;
  /** The plugin's own metrics, named `clarion_<name>_…`, built once; the runtime adds the standard ones. */
  metrics?: (m: PluginMetricsFactory) => Metrics;
  /** Makes the sender, once per process (pooled clients belong here, not in `send`). */
  createSender(
    ctx: SenderFactoryContext<z.infer<ConfigSchema>, Metrics>,
  ): Promise<Sender<z.infer<AppConfigSchema>>>;
}

export type AnyChannelPlugin = ChannelPlugin<z.ZodType, z.ZodType, unknown>;

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** A channel is a key of `content` and of `addresses` in the API: a plain word. */
const CHANNEL = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Declares a channel plugin; checks its shape so a mistake fails at import, not at the first send. */
export function defineChannelPlugin<C extends z.ZodType, A extends z.ZodType, M>(
  plugin: ChannelPlugin<C, A, M>,
): ChannelPlugin<C, A, M> {
  if (!NAME.test(plugin.name)) {
    throw new Error(`plugin name "${plugin.name}" must be kebab-case (a-z, 0-9, single dashes)`);
  }
  if (!plugin.channel) throw new Error(`plugin "${plugin.name}" must name its channel`);
  if (plugin.addressKind === 'device' && (plugin.platforms === undefined || plugin.platforms.length === 0)) {
    throw new Error(`push plugin "${plugin.name}" must list the device platforms it serves`);
  }
  if (!CHANNEL.test(plugin.channel)) {
    throw new Error(
      `plugin "${plugin.name}": channel "${plugin.channel}" must be lower-case letters, digits, dashes`,
    );
  }
  return plugin;
}

/** Standard defaults, tuned for a 2-core worker talking to an HTTP provider. */
export const DEFAULT_PROCESSOR: Required<Omit<ProcessorSettings, 'limiter'>> = {
  concurrency: 50,
  attempts: 8,
  backoff: { baseMs: 1000, maxMs: 10 * 60 * 1000 },
};
