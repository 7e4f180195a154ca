import type { Env } from '../config/env';
import type { InboxMessageView } from './inbox-view';

/**
 * One Redis pub/sub channel per installation carries every new inbox message; each API process
 * subscribes once and hands a message to the streams its own users opened.
 */
export function inboxChannel(env: Pick<Env, 'CLARION_QUEUE_PREFIX'>): string {
  return `${env.CLARION_QUEUE_PREFIX}:inbox:events`;
}

/** What travels on the channel. */
export interface InboxEvent {
  appId: string;
  /** The user's external id (what the stream is keyed by). */
  userId: string;
  type: 'message';
  message: InboxMessageView;
}
