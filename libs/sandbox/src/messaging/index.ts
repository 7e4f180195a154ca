import type { Fake } from '../fake';
import { mailchimpFake } from './mailchimp-fake';
import { sendgridFake } from './sendgrid-fake';
import { smtpFake } from './smtp-fake';
import { twilioFake } from './twilio-fake';
import { vonageFake } from './vonage-fake';

export * from './credentials';
export * from './twilio-fake';
export * from './twilio-signature';
export * from './vonage-fake';
export * from './sendgrid-fake';
export * from './sendgrid-events';
export { SENDGRID_MAX_RECIPIENTS } from './sendgrid-validation';
export * from './mailchimp-fake';
export * from './smtp-fake';
export { smsParts } from './sms-parts';

/** Fake Twilio, Vonage, SendGrid, Mailchimp Transactional and SMTP (issue 4). */
export function messagingFakes(): Fake[] {
  return [twilioFake(), vonageFake(), sendgridFake(), mailchimpFake(), smtpFake()];
}
