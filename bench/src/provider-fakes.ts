/**
 * The sandbox fakes `--scenario provider-floor` sends to (FCM, SendGrid, SMTP), in a process of
 * their own so that their CPU is told apart from the client's. Forked with an IPC channel: sends
 * `{ configs }` (each plugin's config pointing at its fake) once listening, answers `counts` with
 * what the fakes recorded, and stops when the parent disconnects.
 */
import { fcmFake, Sandbox, sendgridFake, smtpFake } from '@clarion/sandbox';
import { countOnly } from './campaign';

export interface Fakes {
  configs: Record<string, Record<string, unknown>>;
  counts: () => Record<string, number>;
  stop: () => Promise<void>;
}

/** The three fakes with the recorder the campaign bench uses (counts only: nothing kept per message). */
export async function startFakes(): Promise<Fakes> {
  const sandbox = await Sandbox.start({ fakes: [fcmFake(), sendgridFake(), smtpFake()] });
  const counts = countOnly(sandbox.recorder);
  return {
    configs: sandbox.pluginConfigs(),
    counts: () => Object.fromEntries(counts),
    stop: () => sandbox.stop(),
  };
}

if (require.main === module && process.send) {
  void startFakes().then((fakes) => {
    process.send?.({ configs: fakes.configs });
    process.on('message', (m) => {
      if (m === 'counts') process.send?.({ counts: fakes.counts() });
    });
    process.on('disconnect', () => void fakes.stop().then(() => process.exit(0)));
  });
}
