import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PluginConfigError } from '@clarion/plugin-sdk';
import sendgrid from '@clarion/plugin-sendgrid';
import vonage from '@clarion/plugin-vonage';
import webhook from '@clarion/plugin-webhook';
import { callbackSettingsFromEnv } from './callback-settings';

test("a plugin's callback settings come from its own variables, the core's former names standing in when those are unset", () => {
  assert.deepEqual(callbackSettingsFromEnv(sendgrid, {}), { callbackMaxAgeSeconds: 300 });
  assert.deepEqual(
    callbackSettingsFromEnv(sendgrid, {
      CLARION_CALLBACK_SENDGRID_PUBLIC_KEY: 'legacy-key',
      CLARION_CALLBACK_MAX_AGE_SECONDS: '60',
    }),
    { callbackPublicKey: 'legacy-key', callbackMaxAgeSeconds: 60 },
  );
  // The plugin's own name wins over the former one.
  assert.deepEqual(
    callbackSettingsFromEnv(sendgrid, {
      CLARION_SENDGRID_CALLBACK_PUBLIC_KEY: 'new-key',
      CLARION_CALLBACK_SENDGRID_PUBLIC_KEY: 'legacy-key',
    }),
    { callbackPublicKey: 'new-key', callbackMaxAgeSeconds: 300 },
  );
  assert.deepEqual(
    callbackSettingsFromEnv(vonage, {
      CLARION_VONAGE_CALLBACK_SECRET: 's',
      CLARION_CALLBACK_VONAGE_ALGORITHM: 'sha256',
    }),
    { callbackSecret: 's', callbackAlgorithm: 'sha256', callbackMaxAgeSeconds: 300 },
  );
  assert.deepEqual(callbackSettingsFromEnv(webhook, { CLARION_CALLBACK_SENDGRID_PUBLIC_KEY: 'x' }), {});
});

test('a wrong callback setting names the variable', () => {
  assert.throws(
    () => callbackSettingsFromEnv(vonage, { CLARION_VONAGE_CALLBACK_ALGORITHM: 'crc32' }),
    (error: unknown) =>
      error instanceof PluginConfigError && /CLARION_VONAGE_CALLBACK_ALGORITHM/.test(error.message),
  );
});
