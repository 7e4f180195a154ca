/** `node dist/bench.js [count]`: Web Push deliveries per second (aes128gcm + VAPID per message) to the sandbox's push service. */
import { bench, makeJob } from '@clarion/plugin-sdk/testing';
import { Sandbox, type WebPushFake, webPushFake } from '@clarion/sandbox';
import webpushPlugin from './plugin';

async function main() {
  const fake: WebPushFake = webPushFake();
  const sandbox = await Sandbox.start({ fakes: [fake] });
  try {
    // A few hundred browsers, reused: subscribing is the browser's work, not what is measured.
    const subscriptions = Array.from({ length: 200 }, () => fake.subscribe());
    await bench(webpushPlugin, sandbox.pluginConfigs().webpush, (i) => {
      const s = subscriptions[i % subscriptions.length]!;
      return makeJob({
        plugin: 'webpush',
        channel: 'web',
        address: {
          kind: 'device',
          contactId: `c${i}`,
          platform: 'web',
          subscription: { endpoint: s.endpoint, keys: s.keys },
        },
        content: { title: 'Your order shipped', body: `Order ${i} is on its way` },
      });
    });
  } finally {
    await sandbox.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
