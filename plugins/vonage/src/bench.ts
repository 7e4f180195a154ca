/** `node dist/bench.js [count] [--no-limiter]`: Vonage deliveries per second against the sandbox fake. */
import { bench, makeJob } from '@clarion/plugin-sdk/testing';
import { Sandbox, vonageFake } from '@clarion/sandbox';
import vonagePlugin from './plugin';

async function main() {
  const sandbox = await Sandbox.start({ fakes: [vonageFake()] });
  try {
    await bench(vonagePlugin, sandbox.pluginConfigs().vonage, (i) =>
      makeJob({
        plugin: 'vonage',
        channel: 'sms',
        address: {
          kind: 'phone',
          contactId: `c${i}`,
          phone: `+4477009${String(i % 100000).padStart(5, '0')}`,
        },
        content: { text: `Your code is ${100000 + i}` },
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
