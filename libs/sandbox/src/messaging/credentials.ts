/**
 * Test credentials the messaging fakes accept and hand to the plugins through `pluginConfig()`.
 * Shaped like the real ones (Twilio SIDs are AC/SK + 32 hex, SendGrid keys start with `SG.`)
 * so the client libraries' own format checks pass. Never real secrets.
 */
export const SANDBOX_TWILIO = {
  accountSid: `AC${'0'.repeat(31)}1`,
  authToken: 'sandbox-twilio-auth-token-000000',
  apiKeySid: `SK${'0'.repeat(31)}1`,
  apiKeySecret: 'sandbox-twilio-api-key-secret-00',
  from: '+15005550006',
} as const;

export const SANDBOX_VONAGE = { apiKey: 'sandbox1', apiSecret: 'SandboxSecret123' } as const;

export const SANDBOX_SENDGRID = { apiKey: 'SG.sandbox.sandbox-sendgrid-api-key' } as const;

export const SANDBOX_MAILCHIMP = { apiKey: 'md-sandbox-mailchimp-key' } as const;

export const SANDBOX_SMTP = { user: 'clarion', pass: 'sandbox-smtp-password' } as const;
