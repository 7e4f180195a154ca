export { default, twilioPlugin } from './plugin';
export { twilioAppConfig, twilioConfig, type TwilioAppConfig, type TwilioConfig } from './config';
export { classifyTwilioError } from './classify';
