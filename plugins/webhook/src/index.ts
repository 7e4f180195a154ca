export { default, webhookPlugin } from './plugin';
export { signWebhook, SIGNATURE_HEADER } from './signature';
