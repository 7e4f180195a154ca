import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  backlogLimit,
  FANOUT_CHUNK_BYTES,
  FANOUT_MIN_CHUNK,
  jobBytesByChannel,
  recipientsPerChunk,
} from './chunk-sizing';
import { FANOUT_CHUNK } from './fanout.constants';

const newsletter = '<p>offer</p>'.repeat(4200); // 50,400 bytes

describe('fan-out chunks and backlog sized by the content', () => {
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

  test('short content keeps the full chunk; a newsletter gets a chunk its bytes fit in; nothing goes below the floor', () => {
    const small = jobBytesByChannel({
      contents: { push: { title: 'Hi' }, email: { subject: 'Hi', text: 'Hello' } },
    });
    assert.equal(recipientsPerChunk(small), FANOUT_CHUNK);
    const large = jobBytesByChannel({
      contents: { push: { title: 'Hi' }, email: { subject: 'Hi', html: newsletter } },
    });
    const chunk = recipientsPerChunk(large);
    assert.ok(chunk < FANOUT_CHUNK && chunk > FANOUT_MIN_CHUNK, `chunk ${chunk}`);
    const perRecipient = [...large.values()].reduce((a, b) => a + b, 0);
    assert.ok(chunk * perRecipient <= FANOUT_CHUNK_BYTES);
    assert.ok((chunk + 1) * perRecipient > FANOUT_CHUNK_BYTES);
    const huge = jobBytesByChannel({ contents: { email: { subject: 'Hi', html: newsletter.repeat(40) } } });
    assert.equal(recipientsPerChunk(huge), FANOUT_MIN_CHUNK);
  });

  test('the backlog is the count limit, or what the byte limit holds of these jobs when that is less', () => {
    assert.equal(backlogLimit(100_000, 512 * 2 ** 20, 1_000), 100_000);
    assert.equal(backlogLimit(100_000, 512 * 2 ** 20, 51_000), 10_526);
    assert.equal(backlogLimit(100_000, 0, 51_000), 100_000, '0 MB: no byte limit');
    assert.equal(backlogLimit(100_000, 1, 51_000), 1, 'at least one delivery');
  });
});
