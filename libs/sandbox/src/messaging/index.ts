import type { Fake } from '../fake';
import { mailchimpFake } from './mailchimp-fake';
import { sendgridFake } from './sendgrid-fake';
import { smtpFake } from './smtp-fake';
import { twilioFake } from './twilio-fake';
import { vonageFake } from './vonage-fake';

export * from './credentials';
export * from './mailchimp-fake';
export * from './sendgrid-events';
export * from './sendgrid-fake';
export { SENDGRID_MAX_RECIPIENTS } from './sendgrid-validation';
export { smsParts } from './sms-parts';
export * from './smtp-fake';
export * from './twilio-fake';
export * from './twilio-signature';
export * from './vonage-fake';

/** Fake Twilio, Vonage, SendGrid, Mailchimp Transactional and SMTP. */
export function messagingFakes(ports: { smtp?: number } = {}): Fake[] {
  return [
    twilioFake(),
    vonageFake(),
    sendgridFake(),
    mailchimpFake(),
    smtpFake(ports.smtp === undefined ? {} : { port: ports.smtp }),
  ];
}
