export { default, fcmPlugin, type FcmMetrics } from './plugin';
export { fcmConfig, fcmAppConfig, type FcmConfig, type FcmAppConfig } from './config';
export { buildFcmMessage, FCM_PAYLOAD_LIMIT, type FcmMessage } from './message';
export { classifyFcmError } from './errors';
