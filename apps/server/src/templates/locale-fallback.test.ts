import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { localeChain, pickLocale } from './locale-fallback';

describe('locale fallback', () => {
  test('a tag falls back one subtag at a time, case and _ insensitive', () => {
    assert.deepEqual(localeChain('pt-BR'), ['pt-br', 'pt']);
    assert.deepEqual(localeChain('zh_Hant_TW'), ['zh-hant-tw', 'zh-hant', 'zh']);
    assert.deepEqual(localeChain('de'), ['de']);
    assert.deepEqual(localeChain(null), []);
    assert.deepEqual(localeChain(''), []);
  });

  test('pt-BR → pt → the default, per channel', () => {
    const variants = new Map([
      ['pt-br', new Set(['push'])],
      ['pt', new Set(['push', 'sms'])],
    ]);
    assert.equal(pickLocale(variants, 'push', 'pt-BR'), 'pt-br');
    assert.equal(pickLocale(variants, 'sms', 'pt-BR'), 'pt', 'pt-BR has no sms text: pt');
    assert.equal(pickLocale(variants, 'push', 'pt-PT'), 'pt');
    assert.equal(pickLocale(variants, 'email', 'pt-BR'), null, 'no variant has e-mail: the default');
    assert.equal(pickLocale(variants, 'push', 'de-DE'), null);
    assert.equal(pickLocale(variants, 'push', null), null);
  });
});
