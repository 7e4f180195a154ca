import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Sandbox } from '../server';
import { SANDBOX_SMTP } from './credentials';
import { type SmtpFake, smtpFake } from './smtp-fake';

/** A bare SMTP client: sends a line, returns the server's complete reply (multi-line aware). */
class RawSmtp {
  private buffer = '';
  private waiting: ((reply: string) => void) | undefined;
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      const complete = /(^|\r\n)\d{3} [^\r\n]*\r\n$/.test(this.buffer);
      if (complete && this.waiting) {
        const reply = this.buffer;
        this.buffer = '';
        const w = this.waiting;
        this.waiting = undefined;
        w(reply);
      }
    });
  }
  static async open(port: number): Promise<{ client: RawSmtp; greeting: string }> {
    const socket = connect(port, '127.0.0.1');
    const client = new RawSmtp(socket);
    const greeting = await client.next();
    return { client, greeting };
  }
  private next(): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }
  send(line: string): Promise<string> {
    const reply = this.next();
    this.socket.write(`${line}\r\n`);
    return reply;
  }
  close(): void {
    this.socket.destroy();
  }
}

describe('sandbox SMTP fake (real smtp-server)', () => {
  let sandbox: Sandbox;
  let fake: SmtpFake;
  before(async () => {
    fake = smtpFake();
    sandbox = await Sandbox.start({ fakes: [fake] });
  });
  after(() => sandbox.stop());

  const plain = Buffer.from(`\0${SANDBOX_SMTP.user}\0${SANDBOX_SMTP.pass}`).toString('base64');

  test('requires AUTH, then parses and records a message with its List-Unsubscribe headers', async () => {
    const { client, greeting } = await RawSmtp.open(fake.port());
    assert.match(greeting, /^220 /);
    assert.match(await client.send('EHLO test'), /AUTH PLAIN LOGIN/);
    assert.match(await client.send('MAIL FROM:<app@example.com>'), /^530 /);
    assert.match(
      await client.send(`AUTH PLAIN ${Buffer.from('\0clarion\0wrong').toString('base64')}`),
      /^535 /,
    );
    assert.match(await client.send(`AUTH PLAIN ${plain}`), /^235 /);
    assert.match(await client.send('MAIL FROM:<app@example.com>'), /^250 /);
    assert.match(await client.send('RCPT TO:<User@Example.com>'), /^250 /);
    assert.match(await client.send('DATA'), /^354 /);
    const message = [
      'From: App <app@example.com>',
      'To: user@example.com',
      'Subject: Hello there',
      'List-Unsubscribe: <https://clarion.test/u/abc>',
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Plain body',
      '.',
    ].join('\r\n');
    assert.match(await client.send(message), /^250 OK: queued as [0-9A-F]{12}/);
    client.close();
    const [rec] = await sandbox.recorder.waitFor(1, { provider: 'smtp', to: 'user@example.com' });
    const payload = rec!.payload as { subject: string; text: string; headers: Record<string, string> };
    assert.equal(payload.subject, 'Hello there');
    assert.equal(payload.text.trim(), 'Plain body');
    assert.equal(payload.headers['list-unsubscribe'], '<https://clarion.test/u/abc>');
    assert.equal(payload.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
  });

  test('rules refuse a recipient with 550, a temporary 451, and 421 closes the connection', async () => {
    sandbox.behaviors.add({ provider: 'smtp', to: 'nobody@example.com', fail: '550', times: 1 });
    sandbox.behaviors.add({ provider: 'smtp', to: 'later@example.com', fail: '451', times: 1 });
    sandbox.behaviors.add({ provider: 'smtp', to: 'busy@example.com', fail: '421', times: 1 });
    const { client } = await RawSmtp.open(fake.port());
    await client.send('EHLO test');
    await client.send(`AUTH PLAIN ${plain}`);
    await client.send('MAIL FROM:<app@example.com>');
    assert.match(await client.send('RCPT TO:<nobody@example.com>'), /^550 5\.1\.1/);
    assert.match(await client.send('RCPT TO:<later@example.com>'), /^451 /);
    assert.match(await client.send('RCPT TO:<busy@example.com>'), /^421 /);
    client.close();
    assert.equal(fake.stats().rejectedRecipients, 3);
  });
});
