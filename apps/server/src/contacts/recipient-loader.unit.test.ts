import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InMemoryUsers } from '../testing/in-memory-repositories';
import { RecipientLoader } from './recipient-loader';

/** Counts the repository's reads: the loader's promise is one read per batch, never one per user. */
class CountingUsers extends InMemoryUsers {
  reads: number[] = [];

  override async recipients(pairs: { appId: string; externalId: string }[]) {
    this.reads.push(pairs.length);
    return super.recipients(pairs);
  }
}

describe('RecipientLoader (in-memory users)', () => {
  test('concurrent lookups of several apps are one read; each caller gets only its own app’s users', async () => {
    const users = new CountingUsers();
    users.add('app-a', 'ana', { email: 'ana@example.com' });
    users.add('app-b', 'ana', { phone: '+14155550100' });
    users.add('app-b', 'ben');
    const loader = new RecipientLoader(users);
    const [a, b, none] = await Promise.all([
      loader.load('app-a', ['ana', 'ghost']),
      loader.load('app-b', ['ana', 'ben']),
      loader.load('app-c', ['ana']),
    ]);
    assert.deepEqual(users.reads, [5], 'one read for the three callers');
    assert.deepEqual([...a.keys()], ['ana'], 'unknown ids are absent');
    assert.equal(a.get('ana')!.contacts[0]!.address, 'ana@example.com');
    assert.deepEqual([...b.keys()].sort(), ['ana', 'ben']);
    assert.equal(
      b.get('ana')!.contacts[0]!.address,
      '+14155550100',
      'the same external id in another app is another user',
    );
    assert.equal(none.size, 0);
  });

  test('a topic is read in pages by user id', async () => {
    const users = new InMemoryUsers();
    for (const name of ['a', 'b', 'c', 'd', 'e']) users.add('app', name, { topics: ['news'] });
    users.add('app', 'quiet');
    const loader = new RecipientLoader(users);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await loader.topicPage('app', 'news', after, 2);
      if (page.length === 0) break;
      seen.push(...page.map((r) => r.externalId));
      after = page.at(-1)!.userId;
    }
    assert.deepEqual(seen.sort(), ['a', 'b', 'c', 'd', 'e']);
  });
});
