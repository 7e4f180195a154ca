export * from './callbacks';
export { classifyRecipientResult, classifyRequestError } from './classify';
export { type MailchimpAppConfig, type MailchimpConfig, mailchimpAppConfig, mailchimpConfig } from './config';
export { default, mailchimpPlugin } from './plugin';
