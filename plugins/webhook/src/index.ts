export { default, webhookPlugin } from './plugin';
export { SIGNATURE_HEADER, signWebhook } from './signature';
