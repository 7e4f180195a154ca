import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jobBytesPerRecipient } from '../ingest/job-bytes';
import { backlogLimit, FANOUT_CHUNK_BYTES, FANOUT_MIN_CHUNK, recipientsPerChunk } from './chunk-sizing';
import { FANOUT_CHUNK } from './fanout.constants';

const newsletter = '<p>offer</p>'.repeat(4200); // 50,400 bytes

describe('fan-out chunks and backlog sized by the content', () => {
  test('short content keeps the full chunk; a newsletter gets a chunk its bytes fit in; nothing goes below the floor', () => {
    const small = jobBytesPerRecipient({
      contents: { push: { title: 'Hi' }, email: { subject: 'Hi', text: 'Hello' } },
    });
    assert.equal(recipientsPerChunk(small), FANOUT_CHUNK);
    const perRecipient = jobBytesPerRecipient({
      contents: { push: { title: 'Hi' }, email: { subject: 'Hi', html: newsletter } },
    });
    const chunk = recipientsPerChunk(perRecipient);
    assert.ok(chunk < FANOUT_CHUNK && chunk > FANOUT_MIN_CHUNK, `chunk ${chunk}`);
    assert.ok(chunk * perRecipient <= FANOUT_CHUNK_BYTES);
    assert.ok((chunk + 1) * perRecipient > FANOUT_CHUNK_BYTES);
    const huge = jobBytesPerRecipient({
      contents: { email: { subject: 'Hi', html: newsletter.repeat(40) } },
    });
    assert.equal(recipientsPerChunk(huge), FANOUT_MIN_CHUNK);
  });

  test('the backlog is the count limit, or what the byte limit holds of these jobs when that is less', () => {
    assert.equal(backlogLimit(100_000, 512 * 2 ** 20, 1_000), 100_000);
    assert.equal(backlogLimit(100_000, 512 * 2 ** 20, 51_000), 10_526);
    assert.equal(backlogLimit(100_000, 0, 51_000), 100_000, '0 MB: no byte limit');
    assert.equal(backlogLimit(100_000, 1, 51_000), 1, 'at least one delivery');
  });
});
