export { default, apnsPlugin, type ApnsMetrics } from './plugin';
export { apnsConfig, apnsAppConfig, type ApnsConfig, type ApnsAppConfig } from './config';
export { buildNotification, APNS_PAYLOAD_LIMIT } from './payload';
export { classifyFailure } from './errors';
