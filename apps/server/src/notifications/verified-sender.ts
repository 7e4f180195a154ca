import type { AppSettings } from '../apps/app-settings';
import { ApiError } from '../common/api-error';
import { parseMailbox } from '../common/email-address';
import type { ChannelContents } from './notification-request';

/**
 * With a list of verified senders (app setting `senders`), an e-mail's `from` must be one of
 * them (compared by address), in every locale of a template; without `from` the plugin's configured sender is used. Without a
 * list any valid address is accepted.
 */
export function assertVerifiedSender(settings: AppSettings, contents: ChannelContents[]): void {
  if (settings.senders === undefined) return;
  const verified = settings.senders.map((s) => parseMailbox(s)?.address);
  for (const { email } of contents) {
    const from = email?.from;
    if (from === undefined) continue;
    const address = parseMailbox(from)?.address;
    if (address !== undefined && verified.includes(address)) continue;
    throw new ApiError(
      422,
      'unverified_sender',
      `from "${address ?? from}" is not one of the app's verified senders`,
      { senders: settings.senders },
    );
  }
}
