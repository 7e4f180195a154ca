export { classifySmtpError } from './classify';
export { type SmtpAppConfig, type SmtpConfig, smtpAppConfig, smtpConfig } from './config';
export { default, smtpPlugin } from './plugin';
