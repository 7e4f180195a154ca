export { type ApnsAppConfig, type ApnsConfig, apnsAppConfig, apnsConfig } from './config';
export { classifyFailure } from './errors';
export { APNS_PAYLOAD_LIMIT, buildNotification } from './payload';
export { type ApnsMetrics, apnsPlugin, default } from './plugin';
