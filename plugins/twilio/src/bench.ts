/** `node dist/bench.js [count] [--no-limiter]`: Twilio deliveries per second against the sandbox fake. */
import { bench, makeJob } from '@clarion/plugin-sdk/testing';
import { Sandbox, twilioFake } from '@clarion/sandbox';
import twilioPlugin from './plugin';

async function main() {
  const sandbox = await Sandbox.start({ fakes: [twilioFake()] });
  try {
    await bench(twilioPlugin, sandbox.pluginConfigs().twilio, (i) =>
      makeJob({
        plugin: 'twilio',
        channel: 'sms',
        address: {
          kind: 'phone',
          contactId: `c${i}`,
          phone: `+1415555${String(i % 10000).padStart(4, '0')}`,
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
