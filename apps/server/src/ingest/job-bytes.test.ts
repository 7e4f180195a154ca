import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jobBytesByChannel } from './job-bytes';

const newsletter = '<p>offer</p>'.repeat(4200); // 50,400 bytes

describe('a job’s bytes, estimated from the content before rendering', () => {
  test('each channel weighs its content, its largest locale variant and a job’s own fields', () => {
    const bytes = jobBytesByChannel({
      contents: {
        push: { title: 'Sale', body: 'Everything 20 % off' },
        email: { subject: 'Sale', html: newsletter },
      },
      template: {
        locales: {
          de: { email: { subject: 'Angebote', html: newsletter } },
          fr: { email: { subject: 'Soldes' } },
        },
      },
    });
    assert.deepEqual([...bytes.keys()].sort(), ['email', 'push']);
    assert.ok(bytes.get('push')! < 1000, `push ${bytes.get('push')}`);
    // The default's HTML plus the German variant's: a recipient gets one, the estimate holds either.
    assert.ok(bytes.get('email')! > 2 * newsletter.length, `email ${bytes.get('email')}`);
    assert.ok(bytes.get('email')! < 2 * newsletter.length + 1000, `email ${bytes.get('email')}`);
  });

  test('a channel only a locale names, or one a plugin adds, is weighed too', () => {
    const bytes = jobBytesByChannel({
      contents: { slack: { text: 'hello' } } as never,
      template: { locales: { de: { sms: { text: 'Hallo' } } } },
    });
    assert.deepEqual([...bytes.keys()].sort(), ['slack', 'sms']);
  });

  test('a stored template version is weighed once: requests share its locales object and its figures', () => {
    const version = {
      contents: { sms: { text: 'Hi' } },
      template: { locales: { de: { sms: { text: 'Hallo' } } } },
    };
    const first = jobBytesByChannel(version);
    assert.equal(jobBytesByChannel({ ...version }), first, 'the same figures, not weighed again');
    assert.notEqual(
      jobBytesByChannel({ contents: { sms: { text: 'Hi' } } }),
      jobBytesByChannel({ contents: { sms: { text: 'Hi' } } }),
    );
  });
});
