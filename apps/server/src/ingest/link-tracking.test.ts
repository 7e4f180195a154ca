import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { newId } from '../common/ids';
import { metricsFor } from '../deliveries/transitions';
import { rewriteLinks } from './link-rewriter';
import { LinkSigner, OPEN_PIXEL } from './link-token';

const key = randomBytes(32).toString('base64');

describe('tracking tokens and link rewriting (no I/O)', () => {
  test('a token carries delivery id and link index, is 39 characters, and any change breaks it', () => {
    const signer = new LinkSigner(key);
    const id = newId();
    const token = signer.sign(id, 3);
    assert.equal(token.length, 39);
    assert.deepEqual(signer.verify(token), { deliveryId: id, index: 3 });
    for (let i = 0; i < token.length; i++) {
      const c = token[i] === 'A' ? 'B' : 'A';
      assert.equal(signer.verify(token.slice(0, i) + c + token.slice(i + 1)), null, `position ${i}`);
    }
    assert.equal(
      new LinkSigner(randomBytes(32).toString('base64')).verify(token),
      null,
      'another server key',
    );
    assert.equal(signer.verify('short'), null);
    assert.equal(signer.verify(`${token}x`), null);
  });

  test('e-mail: links in HTML and text become tracking URLs (one index per URL), the pixel goes before </body>', () => {
    const signer = new LinkSigner(key);
    const id = newId();
    const out = rewriteLinks(
      'email',
      {
        subject: 's',
        html: '<html><body><a href="https://shop.example/a?x=1&amp;y=2">A</a> <a class="b" href=\'https://shop.example/b\'>B</a> <a href="mailto:x@y.z">m</a></body></html>',
        text: 'See https://shop.example/b, or https://shop.example/c.',
      },
      id,
      { clicks: true, opens: true },
      signer,
      'https://t.example/',
    );
    assert.deepEqual(out.links, [
      'https://shop.example/a?x=1&y=2',
      'https://shop.example/b',
      'https://shop.example/c',
    ]);
    assert.doesNotMatch(out.content.html!, /shop\.example/);
    assert.match(out.content.html!, /href="mailto:x@y\.z"/);
    assert.match(
      out.content.html!,
      /<img src="https:\/\/t\.example\/t\/o\/[A-Za-z0-9_-]{39}\.gif"[^>]*><\/body>/,
    );
    const tokens = [...out.content.html!.matchAll(/https:\/\/t\.example\/t\/([A-Za-z0-9_-]{39})["']/g)].map(
      (m) => signer.verify(m[1]!),
    );
    assert.deepEqual(
      tokens.map((t) => t?.index),
      [0, 1],
    );
    assert.match(
      out.content.text!,
      /^See https:\/\/t\.example\/t\/[A-Za-z0-9_-]{39}, or https:\/\/t\.example\/t\/[A-Za-z0-9_-]{39}\.$/,
    );
    const pixel = out.content.html!.match(/\/t\/o\/([A-Za-z0-9_-]{39})\.gif/)![1]!;
    assert.deepEqual(signer.verify(pixel), { deliveryId: id, index: OPEN_PIXEL });
  });

  test('push and web push: the tap URL is tracked; SMS and webhooks are left alone; options off change nothing', () => {
    const signer = new LinkSigner(key);
    const push = rewriteLinks(
      'push',
      { title: 't', url: 'https://app.example/orders/1' },
      newId(),
      { clicks: true, opens: false },
      signer,
      'https://t.example',
    );
    assert.deepEqual(push.links, ['https://app.example/orders/1']);
    assert.match(push.content.url!, /^https:\/\/t\.example\/t\/[A-Za-z0-9_-]{39}$/);
    const sms = rewriteLinks(
      'sms',
      { text: 'https://a.example' },
      newId(),
      { clicks: true, opens: true },
      signer,
      'https://t.example',
    );
    assert.deepEqual(sms, { content: { text: 'https://a.example' }, links: [] });
    const off = rewriteLinks(
      'email',
      { html: '<a href="https://a.example">x</a>' },
      newId(),
      { clicks: false, opens: false },
      signer,
      'https://t.example',
    );
    assert.deepEqual(off, { content: { html: '<a href="https://a.example">x</a>' }, links: [] });
  });

  test('the stats funnel: each step crossed counts once; failures count by themselves', () => {
    assert.deepEqual(metricsFor('queued', 'sent'), ['sent']);
    assert.deepEqual(metricsFor('queued', 'delivered'), ['sent', 'delivered']);
    assert.deepEqual(metricsFor('sent', 'clicked'), ['delivered', 'opened', 'clicked']);
    assert.deepEqual(metricsFor('opened', 'clicked'), ['clicked']);
    assert.deepEqual(metricsFor('sent', 'sent'), []);
    assert.deepEqual(metricsFor('sent', 'failed'), ['failed']);
    assert.deepEqual(metricsFor('failed', 'failed'), []);
    assert.deepEqual(metricsFor('failed', 'delivered'), ['sent', 'delivered']);
  });
});
