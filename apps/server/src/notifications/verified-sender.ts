import type { AppSettings } from '../apps/app-settings';
import { ApiError } from '../common/api-error';
import { parseMailbox } from '../common/email-address';
import type { ChannelContents } from './notification-request';

/**
 * With a list of verified senders (app setting `senders`), an e-mail's `from` must be one of
 * them (compared by address); without `from` the plugin's configured sender is used. Without a
 * list any valid address is accepted.
 */
export function assertVerifiedSender(settings: AppSettings, contents: ChannelContents): void {
  const from = contents.email?.from;
  if (from === undefined || settings.senders === undefined) return;
  const address = parseMailbox(from)?.address;
  const verified = settings.senders.map((s) => parseMailbox(s)?.address);
  if (address === undefined || !verified.includes(address))
    throw new ApiError(
      422,
      'unverified_sender',
      `from "${address ?? from}" is not one of the app's verified senders`,
      {
        senders: settings.senders,
      },
    );
}
