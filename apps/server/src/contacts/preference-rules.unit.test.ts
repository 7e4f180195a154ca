import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type PreferenceRule, userAllows } from './preference-rules';

const rule = (channel: string, category: string, enabled: boolean): PreferenceRule => ({
  channel,
  category,
  enabled,
});

describe('userAllows: the most specific rule wins', () => {
  test('(channel, category) › (*, category) › (channel, *) › (*, *), whatever their order', () => {
    const all = [
      rule('*', '*', false),
      rule('email', '*', true),
      rule('*', 'promo', false),
      rule('email', 'promo', true),
    ];
    // Every order of the four rules gives the same answers.
    const orders = [all, [...all].reverse(), [all[2]!, all[0]!, all[3]!, all[1]!]];
    for (const rules of orders) {
      assert.equal(userAllows(rules, 'email', 'promo'), true);
      assert.equal(userAllows(rules, 'sms', 'promo'), false, '(*, promo) for another channel');
      assert.equal(userAllows(rules, 'email', 'news'), true, '(email, *) for another category');
      assert.equal(userAllows(rules, 'sms', 'news'), false, '(*, *) last');
      assert.equal(userAllows(rules, 'email', null), true, 'no category: (email, *)');
      assert.equal(userAllows(rules, 'sms', null), false, 'no category: (*, *)');
    }
    assert.equal(userAllows([rule('*', 'promo', true), rule('email', '*', false)], 'email', 'promo'), true);
  });

  test('nothing said is undefined; of two rules as specific, the first counts', () => {
    assert.equal(userAllows([], 'email', 'promo'), undefined);
    assert.equal(userAllows([rule('sms', 'promo', false)], 'email', 'promo'), undefined);
    assert.equal(userAllows([rule('email', 'news', false)], 'email', 'promo'), undefined);
    assert.equal(
      userAllows([rule('email', 'promo', false), rule('email', 'promo', true)], 'email', 'promo'),
      false,
    );
  });
});
