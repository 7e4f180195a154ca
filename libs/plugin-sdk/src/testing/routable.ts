import type { Address, DeliveryJob } from '../message';
import type { AnyChannelPlugin } from '../plugin';

/** The channels of the core, with addresses and content of their own; any other is one a plugin adds. */
export const CORE_CHANNEL_NAMES: readonly string[] = ['push', 'web', 'sms', 'email', 'webhook'];

/** The string a user stores for an address (`addresses.<channel>`), as the API takes it. */
function storedForm(address: Address): string | undefined {
  switch (address.kind) {
    case 'email':
      return address.email;
    case 'phone':
      return address.phone;
    case 'url':
      return address.url;
    default:
      return undefined;
  }
}

/**
 * What keeps a plugin's channel from being used through the API: a channel it adds needs an
 * address a user can store (kind `email`, `phone` or `url`, accepted by `addressSchema`) and
 * content that `contentSchema` accepts. Empty when the channel is routable.
 */
export function routingProblems(plugin: AnyChannelPlugin, sample: DeliveryJob): string[] {
  const problems: string[] = [];
  if (sample.channel !== plugin.channel)
    problems.push(
      `the sample delivery is for channel "${sample.channel}", the plugin's is "${plugin.channel}"`,
    );
  if (sample.address.kind !== plugin.addressKind)
    problems.push(
      `the sample delivery has a ${sample.address.kind} address, the plugin declares ${plugin.addressKind}`,
    );
  if (CORE_CHANNEL_NAMES.includes(plugin.channel)) return problems;
  if (plugin.addressKind === 'device') {
    problems.push(
      `channel "${plugin.channel}" is new, and users can store no device address for it: declare addressKind "url", "email" or "phone" (devices belong to push and web)`,
    );
    return problems;
  }
  const stored = storedForm(sample.address);
  if (plugin.addressSchema && stored !== undefined) {
    const parsed = plugin.addressSchema.safeParse(stored);
    if (!parsed.success)
      problems.push(
        `addressSchema refuses the sample address ${JSON.stringify(stored)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
      );
  }
  if (plugin.contentSchema) {
    const parsed = plugin.contentSchema.safeParse(sample.content);
    if (!parsed.success)
      problems.push(
        `contentSchema refuses the sample content: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(content)'}: ${i.message}`).join('; ')}`,
      );
  }
  return problems;
}
