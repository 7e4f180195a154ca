import type { ContactRow } from './recipient';

export const INBOX_CHANNEL = 'inbox';

/** The address every user has on the inbox channel (no contact row: the job names the user). */
export const INBOX_ADDRESS: ContactRow = {
  id: '',
  kind: 'url',
  platform: null,
  address: 'inbox:',
  subscription: null,
  channel: INBOX_CHANNEL,
  disabled: false,
};
