import type { RedisConnection } from '@clarion/plugin-sdk';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { createRedis } from '../redis/client';
import { PRODUCER_REDIS } from '../redis/redis.module';
import { type InboxEvent, inboxChannel } from './inbox-events';
import type { InboxMessageView } from './inbox-view';

/** What a stream receives: a new message, or the unread count after a change made anywhere. */
export type StreamEvent = { type: 'message'; message: InboxMessageView } | { type: 'unread'; unread: number };

type Listener = (event: StreamEvent) => void;

interface UnreadEvent {
  appId: string;
  userId: string;
  type: 'unread';
  unread: number;
}

/**
 * The live side of the inbox in one API process: one Redis subscription for the installation,
 * handed out to the streams open here (keyed by app and user). Every process publishes what it
 * writes, so a message sent by a worker, or a read in another tab served by another process,
 * reaches every stream of that user.
 */
@Injectable()
export class InboxHub implements OnModuleInit, OnModuleDestroy {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly closers = new Set<() => void>();
  private subscriber: RedisConnection | undefined;
  private readonly channel: string;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @Inject(PRODUCER_REDIS) private readonly redis: RedisConnection,
  ) {
    this.channel = inboxChannel(env);
  }

  async onModuleInit(): Promise<void> {
    const sub = createRedis(this.env, { maxRetriesPerRequest: null });
    sub.on('error', () => undefined);
    sub.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.dispatch(text);
    });
    await sub.subscribe(this.channel);
    this.subscriber = sub;
  }

  onModuleDestroy(): void {
    // Open streams would hold the HTTP server's close: end them first (clients reconnect elsewhere).
    for (const close of [...this.closers]) close();
    this.subscriber?.disconnect();
  }

  private dispatch(text: string): void {
    let event: InboxEvent | UnreadEvent;
    try {
      event = JSON.parse(text) as InboxEvent | UnreadEvent;
    } catch {
      return;
    }
    const set = this.listeners.get(key(event.appId, event.userId));
    if (!set) return;
    const out: StreamEvent =
      event.type === 'message'
        ? { type: 'message', message: event.message }
        : { type: 'unread', unread: event.unread };
    for (const listener of set) listener(out);
  }

  /** Registers a stream; `close` ends it on shutdown. Returns the function that unregisters it. */
  listen(appId: string, userId: string, listener: Listener, close: () => void): () => void {
    const k = key(appId, userId);
    let set = this.listeners.get(k);
    if (!set) {
      set = new Set();
      this.listeners.set(k, set);
    }
    set.add(listener);
    this.closers.add(close);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(k);
      this.closers.delete(close);
    };
  }

  /** Tells every stream of the user the new unread count (best effort: the next list is exact). */
  async unreadChanged(appId: string, userId: string, unread: number): Promise<void> {
    const event: UnreadEvent = { appId, userId, type: 'unread', unread };
    await this.redis.publish(this.channel, JSON.stringify(event)).catch(() => undefined);
  }
}

const key = (appId: string, userId: string) => `${appId}\n${userId}`;
