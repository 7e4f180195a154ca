export { default, smtpPlugin } from './plugin';
export { smtpAppConfig, smtpConfig, type SmtpAppConfig, type SmtpConfig } from './config';
export { classifySmtpError } from './classify';
