export { default, sendgridPlugin } from './plugin';
export { sendgridAppConfig, sendgridConfig, type SendgridAppConfig, type SendgridConfig } from './config';
export { classifySendgridError } from './classify';
