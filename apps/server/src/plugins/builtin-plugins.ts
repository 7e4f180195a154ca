/** Plugin packages shipped in the image. Loaded when configured (or always in sandbox mode). */
export const BUILTIN_PLUGIN_PACKAGES = [
  '@clarion/plugin-webhook',
  '@clarion/plugin-apns',
  '@clarion/plugin-fcm',
  '@clarion/plugin-webpush',
  '@clarion/plugin-twilio',
  '@clarion/plugin-vonage',
  '@clarion/plugin-sendgrid',
  '@clarion/plugin-mailchimp',
  '@clarion/plugin-smtp',
] as const;
