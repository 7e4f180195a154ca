import type { Fake } from '../fake';

/** Fake Twilio, Vonage, SendGrid, Mailchimp Transactional and SMTP (issue 4). */
export function messagingFakes(): Fake[] {
  return [];
}
