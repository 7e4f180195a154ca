/** The channels the core knows the content and addresses of; plugins may add others. */
export const CORE_CHANNELS = ['push', 'web', 'sms', 'email', 'webhook'] as const;
export type CoreChannel = (typeof CORE_CHANNELS)[number];
