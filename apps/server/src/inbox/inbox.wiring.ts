import type { Provider, Type } from '@nestjs/common';
import { InboxController } from './inbox.controller';
import { InboxHub } from './inbox-hub';
import { InboxRepository } from './inbox-repository';

/** What the inbox adds to the app module: its API and live streams run in the API role (the worker sends through the plugin). */
export function inboxWiring(role: { api: boolean }): { controllers: Type[]; providers: Provider[] } {
  return role.api
    ? { controllers: [InboxController], providers: [InboxRepository, InboxHub] }
    : { controllers: [], providers: [] };
}
