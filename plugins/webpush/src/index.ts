export { type WebPushAppConfig, type WebPushConfig, webPushAppConfig, webPushConfig } from './config';
export { classifyWebPushError } from './errors';
export { webPushKeysProblem } from './keys';
export {
  buildWebPushPayload,
  pushTopic,
  pushTtl,
  WEB_PUSH_PLAINTEXT_LIMIT,
  type WebPushPayload,
} from './payload';
export { default, type WebPushMetrics, webPushPlugin } from './plugin';
export { generateVapidKeys, type VapidKeyPair } from './vapid';
