/** What a delivery job carries: everything a sender needs, so a worker never reads the database per job. */

export type Platform = 'ios' | 'android' | 'web';
export type Priority = 'high' | 'normal' | 'low';

export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface DeviceAddress {
  kind: 'device';
  contactId: string;
  platform: Platform;
  /** APNs / FCM registration token. */
  token?: string;
  /** Web Push subscription (platform `web`). */
  subscription?: WebPushSubscription;
}
export interface EmailAddress {
  kind: 'email';
  contactId: string;
  email: string;
  name?: string;
}
export interface PhoneAddress {
  kind: 'phone';
  contactId: string;
  /** E.164, validated at ingest. */
  phone: string;
}
export interface UrlAddress {
  kind: 'url';
  contactId?: string;
  url: string;
}
export type Address = DeviceAddress | EmailAddress | PhoneAddress | UrlAddress;
export type AddressKind = Address['kind'];

/**
 * Rendered content for one channel. Templates are rendered by the core before enqueue, so
 * plugins map fields onto their provider's format and never run a template engine.
 */
export interface MessageContent {
  // push / web
  title?: string;
  body?: string;
  /** Custom key/value data; values are strings because FCM and others require it. */
  data?: Record<string, string>;
  sound?: string;
  badge?: number;
  image?: string;
  icon?: string;
  /** Where a tap or click leads. */
  url?: string;
  /** APNs category / Android click action. */
  actionCategory?: string;
  threadId?: string;
  mutableContent?: boolean;
  /** Android notification channel id. */
  androidChannelId?: string;
  // sms / email
  text?: string;
  subject?: string;
  html?: string;
  /** One mailbox the core validated: `a@b.example` or `Name <a@b.example>` (splitMailbox from `@clarion/plugin-sdk/email`). */
  from?: string;
  replyTo?: string;
  /** Extra e-mail headers, e.g. List-Unsubscribe. */
  headers?: Record<string, string>;
  // webhook and custom channels
  json?: unknown;
}

export interface DeliveryJob {
  deliveryId: string;
  notificationId: string;
  appId: string;
  /** The app's own id for the recipient, when there is one. */
  userId?: string;
  channel: string;
  plugin: string;
  address: Address;
  /**
   * Rendered for this recipient. On a channel the plugin adds, the object its `contentSchema`
   * describes (cast it: `job.content as z.infer<typeof myContent>`).
   */
  content: MessageContent;
  category?: string;
  priority: Priority;
  /** ISO time after which the message is worthless (from the notification's ttl). */
  expiresAt?: string;
  collapseKey?: string;
  pushType?: 'alert' | 'background';
  /** ISO time the API accepted the notification; end-to-end latency starts here. */
  acceptedAt: string;
  /**
   * Providers still to try, in order, when this one fails on its side (outage, exhausted
   * retries, refused credentials, open circuit). Empty or absent: this plugin is the last.
   */
  fallback?: string[];
  /** Times this provider throttled the delivery (queue paused, no attempt spent); capped by the runtime. */
  throttledRuns?: number;
  /**
   * The id of the batch job that carries this delivery with others of its campaign (queues.ts,
   * batchJobId). Absent: the delivery has a job of its own, its id the delivery id.
   */
  batch?: string;
  /**
   * Attempts this delivery already spent in a batch job before it got a job of its own (a retry
   * split out of the batch): the attempt count goes on from there.
   */
  priorAttempts?: number;
}

/** The data of a batch job: deliveries of one plugin and priority, sent concurrently, each on its own. */
export interface DeliveryBatch {
  deliveries: DeliveryJob[];
}
