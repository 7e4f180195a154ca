export { type FcmAppConfig, type FcmConfig, fcmAppConfig, fcmConfig } from './config';
export { classifyFcmError } from './errors';
export { buildFcmMessage, FCM_PAYLOAD_LIMIT, type FcmMessage } from './message';
export { default, type FcmMetrics, fcmPlugin } from './plugin';
