import type { AppSettings } from '../apps/app-settings';
import { parseMailbox } from '../common/email-address';
import { RefusedError } from '../common/errors/domain-error';
import type { ChannelContents } from '../templates/notification-request';

/**
 * An e-mail's `from` must be one of the app's verified senders (app setting `senders`, compared by
 * address), in every locale of a template: otherwise any tenant could send as any domain. Without
 * `from` the plugin's configured sender is used; an app without `senders` may not set `from`.
 */
export function assertVerifiedSender(settings: AppSettings, contents: ChannelContents[]): void {
  const senders = settings.senders ?? [];
  const verified = senders.map((s) => parseMailbox(s)?.address);
  for (const { email } of contents) {
    const from = email?.from;
    if (from === undefined) continue;
    const address = parseMailbox(from)?.address;
    if (address !== undefined && verified.includes(address)) continue;
    throw new RefusedError(
      'unverified_sender',
      senders.length === 0
        ? `from "${address ?? from}": this app has no verified senders; list them in its settings (senders), or leave from out to use the provider's configured sender`
        : `from "${address ?? from}" is not one of the app's verified senders`,
      { senders },
    );
  }
}
