import { createHmac } from 'node:crypto';

/**
 * Twilio's webhook signature: base64(HMAC-SHA1(authToken, url + each POST param name+value,
 * names sorted)). Matches twilio-node's `getExpectedTwilioSignature`, so Clarion's callback
 * endpoint can verify the fake's posts with the real library's `validateRequest`.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}
