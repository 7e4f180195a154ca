/** `node dist/bench.js [count]`: SendGrid deliveries per second against the sandbox fake. */
import { bench, makeJob } from '@clarion/plugin-sdk/testing';
import { Sandbox, sendgridFake } from '@clarion/sandbox';
import sendgridPlugin from './plugin';

async function main() {
  const sandbox = await Sandbox.start({ fakes: [sendgridFake()] });
  try {
    await bench(sendgridPlugin, sandbox.pluginConfigs().sendgrid, (i) =>
      makeJob({
        plugin: 'sendgrid',
        channel: 'email',
        address: { kind: 'email', contactId: `c${i}`, email: `user${i}@example.com` },
        content: {
          subject: `Order ${i} shipped`,
          html: `<p>Your order <b>${i}</b> is on its way.</p>`,
          text: `Your order ${i} is on its way.`,
        },
        category: 'transactional',
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
