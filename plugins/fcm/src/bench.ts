/** `node dist/bench.js [count]`: FCM deliveries per second through the runtime to the sandbox fake (HTTP v1). */
import { randomBytes } from 'node:crypto';
import { bench, makeJob } from '@clarion/plugin-sdk/testing';
import { fcmFake, Sandbox } from '@clarion/sandbox';
import fcmPlugin from './plugin';

async function main() {
  const sandbox = await Sandbox.start({ fakes: [fcmFake()] });
  try {
    await bench(fcmPlugin, sandbox.pluginConfigs().fcm, (i) =>
      makeJob({
        plugin: 'fcm',
        channel: 'push',
        address: {
          kind: 'device',
          contactId: `c${i}`,
          platform: 'android',
          token: randomBytes(32).toString('hex'),
        },
        content: { title: 'Your order shipped', body: `Order ${i} is on its way` },
      }),
    );
  } finally {
    await sandbox.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
