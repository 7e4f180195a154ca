export { default, webPushPlugin, type WebPushMetrics } from './plugin';
export { webPushConfig, webPushAppConfig, type WebPushConfig, type WebPushAppConfig } from './config';
export { generateVapidKeys, type VapidKeyPair } from './vapid';
export { buildWebPushPayload, pushTopic, pushTtl, WEB_PUSH_PLAINTEXT_LIMIT, type WebPushPayload } from './payload';
export { classifyWebPushError } from './errors';
