import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { countSmsSegments, isE164, isGsm7 } from './sms-segments';

describe('SMS segment counting', () => {
  test('plain GSM-7 text: 160 in one part, 153 per part beyond', () => {
    assert.deepEqual(countSmsSegments('a'.repeat(160)), {
      encoding: 'GSM-7',
      segments: 1,
      units: 160,
      perSegment: 160,
    });
    assert.equal(countSmsSegments('a'.repeat(161)).segments, 2);
    assert.equal(countSmsSegments('a'.repeat(306)).segments, 2);
    assert.equal(countSmsSegments('a'.repeat(307)).segments, 3);
  });

  test('GSM-7 accented letters (é, ñ, Ä) stay GSM-7', () => {
    assert.equal(isGsm7('Café, Señor Äpfel'), true);
    assert.equal(countSmsSegments('Café').encoding, 'GSM-7');
  });

  test('extension characters count twice and are not split across parts', () => {
    assert.deepEqual(countSmsSegments('€'.repeat(80)), {
      encoding: 'GSM-7',
      segments: 1,
      units: 160,
      perSegment: 160,
    });
    assert.equal(countSmsSegments('€'.repeat(81)).segments, 2);
    // 152 plain septets then a euro: 154 septets, which does not fit 153, so the euro opens part 2.
    const text = `${'a'.repeat(152)}€${'a'.repeat(10)}`;
    assert.equal(countSmsSegments(text).units, 164);
    assert.equal(countSmsSegments(text).segments, 2);
    assert.equal(countSmsSegments(`${'a'.repeat(152)}€${'a'.repeat(152)}`).segments, 3);
  });

  test('any non-GSM character switches to UCS-2: 70 single, 67 per part', () => {
    assert.deepEqual(countSmsSegments('ç'.repeat(70)), {
      encoding: 'UCS-2',
      segments: 1,
      units: 70,
      perSegment: 70,
    });
    assert.equal(countSmsSegments('Привет'.padEnd(71, 'x')).segments, 2);
    assert.equal(countSmsSegments('“quotes”').encoding, 'UCS-2');
    assert.equal(countSmsSegments('ж'.repeat(134)).segments, 2);
    assert.equal(countSmsSegments('ж'.repeat(135)).segments, 3);
  });

  test('emoji take two UTF-16 units and a surrogate pair never straddles parts', () => {
    assert.deepEqual(countSmsSegments('😀'.repeat(35)), {
      encoding: 'UCS-2',
      segments: 1,
      units: 70,
      perSegment: 70,
    });
    assert.equal(countSmsSegments('😀'.repeat(36)).segments, 2);
    // 66 units then an emoji: 68 > 67, so the emoji goes to part 2.
    assert.equal(countSmsSegments(`${'ж'.repeat(66)}😀${'ж'.repeat(65)}`).segments, 2);
    assert.equal(countSmsSegments(`${'ж'.repeat(66)}😀${'ж'.repeat(66)}`).segments, 3);
  });

  test('empty text has no segments', () => {
    assert.equal(countSmsSegments('').segments, 0);
  });
});

describe('E.164', () => {
  test('accepts + country code and subscriber number, at most 15 digits', () => {
    for (const ok of ['+14155550100', '+447700900123', '+491701234567', '+123456789012345'])
      assert.equal(isE164(ok), true, ok);
  });
  test('rejects national formats, punctuation, leading zero and too many digits', () => {
    for (const bad of [
      '14155550100',
      '+1 415 555 0100',
      '+0123456',
      '+1234567890123456',
      '',
      '+',
      '+1-415-555-0100',
      'tel:+14155550100',
    ]) {
      assert.equal(isE164(bad), false, bad);
    }
  });
});
