/** `node dist/bench.js [count]`: Mailchimp Transactional deliveries per second against the sandbox fake. */
import { bench, makeJob } from '@clarion/plugin-sdk/testing';
import { mailchimpFake, Sandbox } from '@clarion/sandbox';
import mailchimpPlugin from './plugin';

async function main() {
  const sandbox = await Sandbox.start({ fakes: [mailchimpFake()] });
  try {
    await bench(mailchimpPlugin, sandbox.pluginConfigs().mailchimp, (i) =>
      makeJob({
        plugin: 'mailchimp',
        channel: 'email',
        address: { kind: 'email', contactId: `c${i}`, email: `user${i}@example.com` },
        content: {
          subject: `Invoice ${i}`,
          html: `<p>Invoice <b>${i}</b> is ready.</p>`,
          text: `Invoice ${i} is ready.`,
        },
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
