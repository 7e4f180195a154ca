/** `node dist/bench.js [count]`: SMTP deliveries per second to the sandbox's real SMTP server. */
import { bench, makeJob } from '@clarion/plugin-sdk/testing';
import { Sandbox, smtpFake } from '@clarion/sandbox';
import smtpPlugin from './plugin';

async function main() {
  const sandbox = await Sandbox.start({ fakes: [smtpFake()] });
  try {
    await bench(smtpPlugin, sandbox.pluginConfigs().smtp, (i) =>
      makeJob({
        plugin: 'smtp',
        channel: 'email',
        address: { kind: 'email', contactId: `c${i}`, email: `user${i}@example.com` },
        content: {
          subject: `Welcome ${i}`,
          html: `<p>Welcome, user <b>${i}</b>.</p>`,
          text: `Welcome, user ${i}.`,
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
