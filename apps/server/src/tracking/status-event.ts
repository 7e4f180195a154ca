import { Injectable } from '@nestjs/common';

/** One step of one delivery, as status webhooks and listeners see it. */
export interface StatusEvent {
  /** Unique per step (delivery id + status): receivers de-duplicate on it. */
  id: string;
  type: 'sent' | 'delivered' | 'failed' | 'opened' | 'clicked' | 'expired';
  at: string;
  appId: string;
  deliveryId: string;
  notificationId: string;
  /** The app's own user id. */
  userId: string | null;
  channel: string;
  plugin: string | null;
  providerMessageId: string | null;
  reason: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

export type StatusListener = (events: StatusEvent[]) => void;

/** Fan-out point for delivery steps recorded outside the StatusWriter (callbacks, clicks, opens). */
@Injectable()
export class StatusEvents {
  private readonly listeners: StatusListener[] = [];

  on(listener: StatusListener): void {
    this.listeners.push(listener);
  }

  emit(events: StatusEvent[]): void {
    if (events.length === 0) return;
    for (const l of this.listeners) l(events);
  }
}
