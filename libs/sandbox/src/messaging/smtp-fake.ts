import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type AddressObject, simpleParser } from 'mailparser';
import { generate } from 'selfsigned';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { sleep } from '../behaviors';
import type { Fake, FakeContext } from '../fake';
import { altName } from '../push/tls';
import { SANDBOX_SMTP } from './credentials';

export interface SmtpFakeOptions {
  /** Require AUTH (PLAIN/LOGIN) with these credentials; `false` accepts anonymous mail. Default: sandbox credentials. */
  auth?: { user: string; pass: string } | false;
  /** Offer STARTTLS with a self-signed certificate (the client must trust it or skip verification). */
  startTls?: boolean;
  /** Refuse mail until the client has upgraded with STARTTLS. */
  requireTls?: boolean;
  port?: number;
  /** SIZE extension limit in bytes. */
  maxSizeBytes?: number;
}

export interface SmtpFakeStats {
  /** TCP connections opened by clients (a pooled client reuses them). */
  connections: number;
  /** Messages accepted at DATA. */
  messages: number;
  /** RCPT TO commands refused. */
  rejectedRecipients: number;
  /** Connections that upgraded with STARTTLS. */
  tlsConnections: number;
}

export interface SmtpFake extends Fake {
  stats(): SmtpFakeStats;
  /** PEM of the self-signed certificate when `startTls` is on, for the client's `tls.ca`. */
  certificate(): string | undefined;
  port(): number;
}

type SmtpError = Error & { responseCode?: number };
const smtpError = (code: number, message: string): SmtpError =>
  Object.assign(new Error(message), { responseCode: code });

/** Reply texts for codes a rule can ask for at RCPT TO (RFC 5321 / 3463 enhanced codes). */
const RCPT_REPLIES: Record<string, string> = {
  '421': '4.7.0 Try again later, closing connection',
  '450': '4.2.1 Mailbox temporarily unavailable',
  '451': '4.3.0 Local error in processing, try again later',
  '452': '4.2.2 Mailbox full',
  '550': '5.1.1 User unknown',
  '551': '5.1.6 User not local',
  '552': '5.2.2 Mailbox full, quota exceeded',
  '553': '5.1.3 Mailbox name not allowed',
  '554': '5.7.1 Relay access denied',
};

const addresses = (value: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(value) ? value : value ? [value] : []).flatMap((a) => a.value.map((v) => v.address ?? ''));

/**
 * A real SMTP server (`smtp-server`) that parses each message with `mailparser` and records it
 * once per accepted recipient: subject, text, html, from, and the headers a user or a mail client
 * acts on (List-Unsubscribe…). AUTH PLAIN/LOGIN and STARTTLS are optional. Rules key on the
 * recipient address: `fail: "550"` (or any code in RCPT_REPLIES) refuses that RCPT TO — 421
 * also closes the connection —, `fail: "data:554"` / `"data:451"` refuses the message after DATA,
 * `delayMs` stalls the RCPT reply, `drop` closes the connection.
 */
export function smtpFake(options: SmtpFakeOptions = {}): SmtpFake {
  const auth = options.auth === undefined ? { ...SANDBOX_SMTP } : options.auth;
  const stats: SmtpFakeStats = { connections: 0, messages: 0, rejectedRecipients: 0, tlsConnections: 0 };
  let server: SMTPServer | undefined;
  let cert: string | undefined;
  let listeningPort = 0;
  let publicHost = '127.0.0.1';

  async function build(ctx: FakeContext): Promise<SMTPServer> {
    let tls: Pick<SMTPServerOptions, 'key' | 'cert'> = {};
    if (options.startTls) {
      const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
        keySize: 2048,
        algorithm: 'sha256',
        extensions: [
          {
            name: 'subjectAltName',
            altNames: [...new Set(['localhost', '127.0.0.1', ctx.publicHost])].map(altName),
          },
        ],
      });
      cert = pems.cert;
      tls = { key: pems.private, cert: pems.cert };
    }
    const ruleOutcome = new Map<string, string | undefined>();
    return new SMTPServer({
      name: 'sandbox.smtp.local',
      banner: 'Clarion sandbox ESMTP',
      secure: false,
      ...tls,
      disabledCommands: [...(options.startTls ? [] : ['STARTTLS']), ...(auth ? [] : ['AUTH'])],
      authOptional: !auth,
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      size: options.maxSizeBytes ?? 25 * 1024 * 1024,
      logger: false,
      onConnect(_session, callback) {
        stats.connections += 1;
        callback();
      },
      onSecure(_socket, _session, callback) {
        stats.tlsConnections += 1;
        callback();
      },
      onAuth(authData, _session, callback) {
        if (auth && authData.username === auth.user && authData.password === auth.pass)
          return callback(null, { user: auth.user });
        return callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
      },
      onMailFrom(_address, session, callback) {
        if (options.requireTls && !session.secure)
          return callback(smtpError(530, '5.7.0 Must issue a STARTTLS command first'));
        return callback();
      },
      onRcptTo(address, session, callback) {
        const to = address.address.toLowerCase();
        const rule = ctx.behaviors.take('smtp', to);
        const finish = () => {
          if (rule?.drop) {
            // Closing the socket from inside a command handler: the client sees the connection vanish.
            (session as unknown as { _socket?: { destroy(): void } })._socket?.destroy();
            return;
          }
          const code = rule?.fail && !rule.fail.startsWith('data:') ? rule.fail : undefined;
          if (code) {
            stats.rejectedRecipients += 1;
            ctx.recorder.add({
              provider: 'smtp',
              channel: 'email',
              to,
              payload: {},
              outcome: `rejected_${code}`,
            });
            return callback(smtpError(Number(code) || 550, RCPT_REPLIES[code] ?? '5.0.0 Rejected'));
          }
          ruleOutcome.set(`${session.id}:${to}`, rule?.fail);
          return callback();
        };
        if (rule?.delayMs) void sleep(rule.delayMs).then(finish);
        else finish();
      },
      onData(stream, session, callback) {
        const recipients = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        const dataFailure = recipients
          .map((to) => ruleOutcome.get(`${session.id}:${to}`))
          .find((f) => f?.startsWith('data:'));
        for (const to of recipients) ruleOutcome.delete(`${session.id}:${to}`);
        simpleParser(stream)
          .then((mail) => {
            const queueId = randomBytes(6).toString('hex').toUpperCase();
            const code = dataFailure?.slice('data:'.length);
            const headers: Record<string, string> = {};
            for (const name of [
              'list-unsubscribe',
              'list-unsubscribe-post',
              'message-id',
              'x-clarion-delivery-id',
              'content-type',
            ]) {
              const line = mail.headerLines.find((h) => h.key === name);
              if (line) headers[name] = line.line.slice(line.line.indexOf(':') + 1).trim();
            }
            for (const to of recipients) {
              ctx.recorder.add({
                provider: 'smtp',
                channel: 'email',
                to,
                payload: {
                  subject: mail.subject ?? null,
                  text: mail.text ?? null,
                  html: typeof mail.html === 'string' ? mail.html : null,
                  from: addresses(mail.from)[0] ?? null,
                  replyTo: addresses(mail.replyTo)[0] ?? null,
                  envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
                  headers,
                },
                outcome: code ? `rejected_${code}` : 'accepted',
                ...(code ? {} : { providerMessageId: queueId }),
              });
            }
            if (code)
              return callback(
                smtpError(
                  Number(code),
                  code.startsWith('4')
                    ? '4.3.0 Temporary failure, try again later'
                    : '5.7.1 Message rejected',
                ),
              );
            stats.messages += 1;
            return callback(null, `OK: queued as ${queueId}`);
          })
          .catch((error: Error) =>
            callback(smtpError(451, `4.3.0 Could not parse message: ${error.message}`)),
          );
      },
    });
  }

  return {
    name: 'smtp',
    channel: 'email',
    async start(ctx: FakeContext) {
      publicHost = ctx.publicHost;
      server = await build(ctx);
      const s = server;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(options.port ?? 0, ctx.host, () => resolve());
      });
      s.on('error', () => undefined); // client resets must not crash the sandbox
      listeningPort = (s as unknown as { server: { address(): AddressInfo } }).server.address().port;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    stats: () => ({ ...stats }),
    certificate: () => cert,
    port: () => listeningPort,
    pluginConfig: () => ({
      host: publicHost,
      port: listeningPort,
      secure: false,
      ...(auth ? { user: auth.user, pass: auth.pass } : {}),
      ...(options.startTls ? { rejectUnauthorized: false } : { ignoreTls: true }),
      from: 'clarion@sandbox.test',
    }),
  };
}
