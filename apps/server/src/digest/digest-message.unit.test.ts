/** What a digest's message is made of (no database): the opening request, `data.digest`, the limits. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DIGEST_ITEMS_MAX_BYTES, digestMessage } from './digest-message';

const opening = {
  to: { userId: 'ana' },
  template: 'comments',
  data: { n: '1' },
  eventId: 'comment-1',
  category: 'social',
  priority: 'low',
  pushType: 'alert',
};

describe('digestMessage', () => {
  test('the opening request, to the same user, with data.digest and the digest eventId', () => {
    const message = digestMessage('d-1', opening, {
      count: 120,
      oldest: [{ n: '1' }, { n: '2' }],
      newest: { n: '120' },
    });
    assert.deepEqual(message, {
      to: { userId: 'ana' },
      template: 'comments',
      category: 'social',
      priority: 'low',
      pushType: 'alert',
      data: {
        n: '1',
        digest: { count: 120, first: { n: '1' }, last: { n: '120' }, items: [{ n: '1' }, { n: '2' }] },
      },
      eventId: 'digest:d-1',
    });
  });

  test('items stop before their data passes the byte budget (the first always stays); count stays all', () => {
    const big = { text: 'x'.repeat(DIGEST_ITEMS_MAX_BYTES / 2) };
    const message = digestMessage('d-2', opening, { count: 3, oldest: [big, big, big], newest: big });
    const digest = message.data.digest as { count: number; items: unknown[] };
    assert.equal(digest.count, 3);
    assert.equal(digest.items.length, 1);
    const huge = { text: 'x'.repeat(DIGEST_ITEMS_MAX_BYTES * 2) };
    assert.equal(
      (
        digestMessage('d-3', opening, { count: 1, oldest: [huge], newest: huge }).data.digest as {
          items: unknown[];
        }
      ).items.length,
      1,
    );
  });

  test('the same items make the same body (a closer that runs again is a repeat)', () => {
    const items = { count: 2, oldest: [{ n: '1' }, { n: '2' }], newest: { n: '2' } };
    assert.deepEqual(digestMessage('d-4', opening, items), digestMessage('d-4', opening, items));
  });
});
