import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { localeChain, mergeVariants, pickLocale } from './locale-fallback';

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

  test('a variant overrides the fields it gives and inherits the rest from its parents and the default', () => {
    const merged = mergeVariants(
      { push: { title: 'Hi', body: 'Hello', url: 'https://x.test', sound: 'a' }, sms: { text: 'Hello' } },
      {
        pt: { push: { title: 'Olá', body: 'Olá!', sound: 'b' } },
        'pt-BR': { push: { body: 'Oi!' } },
        PT_pt: { sms: { text: 'Olá' } },
      },
    );
    assert.deepEqual(merged.get('pt'), {
      push: { title: 'Olá', body: 'Olá!', url: 'https://x.test', sound: 'b' },
    });
    assert.deepEqual(merged.get('pt-br'), {
      push: { title: 'Olá', body: 'Oi!', url: 'https://x.test', sound: 'b' },
    });
    assert.deepEqual(merged.get('pt-pt'), { sms: { text: 'Olá' } }, 'only its own channels');
  });
});
