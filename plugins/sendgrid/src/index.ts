export * from './callbacks';
export { classifySendgridError } from './classify';
export { type SendgridAppConfig, type SendgridConfig, sendgridAppConfig, sendgridConfig } from './config';
export { default, sendgridPlugin } from './plugin';
