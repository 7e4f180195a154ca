export { default, mailchimpPlugin } from './plugin';
export { mailchimpAppConfig, mailchimpConfig, type MailchimpAppConfig, type MailchimpConfig } from './config';
export { classifyRecipientResult, classifyRequestError } from './classify';
