import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { z } from 'zod';
import {
  PluginConfigError,
  pluginConfigFromEnv,
  pluginConfigToEnv,
  pluginEnvName,
  redactConfig,
} from './config';
import { defineChannelPlugin } from './plugin';
import { secret } from './secret';
import { SDK_VERSION, satisfiesSdkRange } from './version';

const plugin = defineChannelPlugin({
  name: 'demo-sms',
  version: '1.0.0',
  sdkVersion: '^0.1.0',
  channel: 'sms',
  addressKind: 'phone',
  config: z.object({
    accountId: z.string(),
    authToken: secret(),
    timeoutMs: z.coerce.number().int().positive().default(5000),
  }),
  async createSender() {
    return {
      async send() {
        return {};
      },
      async close() {},
    };
  },
});

describe('plugin configuration', () => {
  test('environment names follow CLARION_<PLUGIN>_<KEY>', () => {
    assert.equal(pluginEnvName('demo-sms', 'authToken'), 'CLARION_DEMO_SMS_AUTH_TOKEN');
  });

  test('reads values from variables and *_FILE files, coercing numbers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'token'), 's3cret\n');
    const config = pluginConfigFromEnv(plugin, {
      CLARION_DEMO_SMS_ACCOUNT_ID: 'AC1',
      CLARION_DEMO_SMS_AUTH_TOKEN_FILE: join(dir, 'token'),
      CLARION_DEMO_SMS_TIMEOUT_MS: '250',
    });
    assert.deepEqual(config, { accountId: 'AC1', authToken: 's3cret', timeoutMs: 250 });
  });

  test('pluginConfigToEnv writes the variables pluginConfigFromEnv reads back', () => {
    const env = pluginConfigToEnv('demo-sms', {
      accountId: 'AC1',
      authToken: 'tok',
      timeoutMs: 250,
      unset: undefined,
    });
    assert.deepEqual(env, {
      CLARION_DEMO_SMS_ACCOUNT_ID: 'AC1',
      CLARION_DEMO_SMS_AUTH_TOKEN: 'tok',
      CLARION_DEMO_SMS_TIMEOUT_MS: '250',
    });
    assert.deepEqual(pluginConfigFromEnv(plugin, env), {
      accountId: 'AC1',
      authToken: 'tok',
      timeoutMs: 250,
    });
  });

  test('a missing or wrong value names the variable', () => {
    assert.throws(
      () => pluginConfigFromEnv(plugin, { CLARION_DEMO_SMS_TIMEOUT_MS: '-1' }),
      (error: unknown) =>
        error instanceof PluginConfigError &&
        error.message.includes('CLARION_DEMO_SMS_ACCOUNT_ID') &&
        error.message.includes('CLARION_DEMO_SMS_AUTH_TOKEN') &&
        error.message.includes('CLARION_DEMO_SMS_TIMEOUT_MS'),
    );
  });

  test('an unreadable *_FILE is reported, not ignored', () => {
    assert.throws(
      () =>
        pluginConfigFromEnv(plugin, {
          CLARION_DEMO_SMS_ACCOUNT_ID: 'a',
          CLARION_DEMO_SMS_AUTH_TOKEN_FILE: '/nonexistent/x',
        }),
      /CLARION_DEMO_SMS_AUTH_TOKEN_FILE: cannot read/,
    );
  });

  test('secrets are redacted for logs', () => {
    assert.deepEqual(redactConfig(plugin, { accountId: 'AC1', authToken: 'x', timeoutMs: 1 }), {
      accountId: 'AC1',
      authToken: '[redacted]',
      timeoutMs: 1,
    });
  });

  test('plugin names must be kebab-case', () => {
    assert.throws(() => defineChannelPlugin({ ...plugin, name: 'Bad_Name' }), /kebab-case/);
  });

  test('SDK ranges', () => {
    assert.equal(satisfiesSdkRange('^0.1.0', '0.1.5'), true);
    assert.equal(satisfiesSdkRange('^0.1.0', '0.2.0'), false);
    assert.equal(satisfiesSdkRange('^1.2.0', '1.9.0'), true);
    assert.equal(satisfiesSdkRange('^1.2.0', '2.0.0'), false);
    assert.equal(satisfiesSdkRange('^1.2.0', '1.1.0'), false);
    assert.equal(satisfiesSdkRange('~0.1.0', '0.1.9'), true);
    assert.equal(satisfiesSdkRange('>=0.1.0 <0.3.0', '0.2.4'), true);
    assert.equal(satisfiesSdkRange('', '0.1.2'), false, 'no range: refused, not "any"');
    assert.equal(satisfiesSdkRange('not a range', '0.1.2'), false);
    assert.equal(satisfiesSdkRange(`^${SDK_VERSION}`), true, 'this SDK admits itself');
  });
});
