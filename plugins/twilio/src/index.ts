export * from './callbacks';
export { classifyTwilioError } from './classify';
export { type TwilioAppConfig, type TwilioConfig, twilioAppConfig, twilioConfig } from './config';
export { default, twilioPlugin } from './plugin';
