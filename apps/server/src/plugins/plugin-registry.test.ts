import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AnyChannelPlugin, defineChannelPlugin } from '@clarion/plugin-sdk';
import { z } from 'zod';
import { providerOrderSchema } from '../config/provider-order';
import type { LoadedPlugin } from './plugin-loader';
import { PluginRegistry } from './plugin-registry';

const provider = (name: string, channel: string): LoadedPlugin => ({
  packageName: `@acme/${name}`,
  plugin: defineChannelPlugin({
    name,
    version: '1.0.0',
    sdkVersion: '^0.1.0',
    channel,
    addressKind: 'url',
    config: z.object({}),
    async createSender() {
      return {
        async send() {
          return {};
        },
        async close() {},
      };
    },
  }) as AnyChannelPlugin,
  config: {},
  version: '1.0.0',
  warnings: [],
});

const names = (plugins: AnyChannelPlugin[]) => plugins.map((p) => p.name);

describe('which providers a delivery goes to', () => {
  // The generic webhook, then a Slack provider of the same channel loaded for one app.
  const loaded = [
    provider('webhook', 'webhook'),
    provider('slack-webhook', 'webhook'),
    provider('twilio', 'sms'),
  ];

  test("an app without an order gets the first loaded provider alone: a provider loaded later is nobody's fallback", () => {
    const registry = new PluginRegistry(loaded);
    assert.deepEqual(names(registry.providersFor('webhook', undefined)), ['webhook']);
    assert.deepEqual(names(registry.providersFor('webhook', [])), ['webhook']);
  });

  test("the app's order picks the providers and their fallbacks", () => {
    const registry = new PluginRegistry(loaded);
    assert.deepEqual(names(registry.providersFor('webhook', ['slack-webhook', 'webhook'])), [
      'slack-webhook',
      'webhook',
    ]);
    assert.deepEqual(names(registry.providersFor('webhook', ['slack-webhook'])), ['slack-webhook']);
  });

  test("the server's default order (CLARION_PROVIDERS) applies to apps without their own", () => {
    const order = providerOrderSchema.parse('webhook=webhook,slack-webhook; sms=twilio');
    const registry = new PluginRegistry(loaded, order);
    assert.deepEqual(names(registry.providersFor('webhook', undefined)), ['webhook', 'slack-webhook']);
    assert.deepEqual(names(registry.providersFor('webhook', ['slack-webhook'])), ['slack-webhook']);
    assert.deepEqual(registry.unknownDefaults(), []);
    const wrong = new PluginRegistry(loaded, providerOrderSchema.parse('sms=twilio,vonage;email=twilio'));
    assert.deepEqual(wrong.unknownDefaults(), [
      'CLARION_PROVIDERS: "vonage" is no loaded plugin of channel "sms"',
      'CLARION_PROVIDERS: "twilio" is no loaded plugin of channel "email"',
    ]);
    assert.deepEqual(names(wrong.providersFor('sms', undefined)), ['twilio']);
  });

  test('a malformed CLARION_PROVIDERS is refused with the expected form', () => {
    for (const bad of ['sms', 'sms=', '=twilio', 'sms=Twilio']) {
      const result = providerOrderSchema.safeParse(bad);
      assert.equal(result.success, false, bad);
      assert.match(
        result.error!.issues[0]!.message,
        /is not channel=provider,provider \(e\.g\. sms=twilio,vonage/,
      );
    }
    assert.deepEqual(providerOrderSchema.parse(''), {});
  });
});
