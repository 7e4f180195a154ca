/** `node dist/bench.js [count]`: APNs deliveries per second through the runtime to the sandbox's HTTP/2 fake. */
import { randomBytes } from 'node:crypto';
import { bench, makeJob } from '@clarion/plugin-sdk/testing';
import { apnsFake, Sandbox } from '@clarion/sandbox';
import apnsPlugin from './plugin';

async function main() {
  const sandbox = await Sandbox.start({ fakes: [apnsFake()] });
  try {
    await bench(apnsPlugin, sandbox.pluginConfigs().apns, (i) =>
      makeJob({
        plugin: 'apns',
        channel: 'push',
        address: {
          kind: 'device',
          contactId: `c${i}`,
          platform: 'ios',
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
