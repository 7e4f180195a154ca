import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { quietHoursApply, quietHoursEnd } from './quiet-hours';

const qh = (start: string, end: string, categories: string[] | null = null) => ({ start, end, categories });
const at = (iso: string) => new Date(iso);

describe('quiet hours: when a window holds a notification, and until when', () => {
  test('outside the window nothing is held', () => {
    assert.equal(quietHoursEnd(qh('22:00', '07:00'), 'Europe/Lisbon', at('2026-06-10T12:00:00Z')), null);
    assert.equal(
      quietHoursEnd(qh('09:00', '17:00'), 'UTC', at('2026-06-10T17:00:00Z')),
      null,
      'the end minute is outside',
    );
  });

  test('a window across midnight holds before and after midnight, until the end on the right day', () => {
    // Lisbon is UTC+1 in June.
    assert.equal(
      quietHoursEnd(qh('22:00', '07:00'), 'Europe/Lisbon', at('2026-06-10T22:30:00Z'))?.toISOString(),
      '2026-06-11T06:00:00.000Z',
    );
    assert.equal(
      quietHoursEnd(qh('22:00', '07:00'), 'Europe/Lisbon', at('2026-06-11T03:00:00Z'))?.toISOString(),
      '2026-06-11T06:00:00.000Z',
    );
    assert.equal(
      quietHoursEnd(qh('22:00', '07:00'), 'Europe/Lisbon', at('2026-06-10T21:00:00Z'))?.toISOString(),
      '2026-06-11T06:00:00.000Z',
      '22:00 local is inside',
    );
  });

  test('a same-day window ends the same day', () => {
    assert.equal(
      quietHoursEnd(qh('09:00', '17:00'), 'Asia/Tokyo', at('2026-01-05T01:00:00Z'))?.toISOString(),
      '2026-01-05T08:00:00.000Z',
    );
  });

  test('the user’s time zone decides, not the server’s', () => {
    const moment = at('2026-06-10T23:30:00Z');
    assert.ok(quietHoursEnd(qh('22:00', '07:00'), 'Europe/Berlin', moment), '01:30 in Berlin');
    assert.equal(
      quietHoursEnd(qh('22:00', '07:00'), 'America/Los_Angeles', moment),
      null,
      '16:30 in Los Angeles',
    );
  });

  test('a night when clocks spring forward: the window ends at local 07:00, an hour sooner in UTC terms', () => {
    // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT. 23:00 EST on the 7th = 04:00Z; 07:00 EDT = 11:00Z.
    assert.equal(
      quietHoursEnd(qh('23:00', '07:00'), 'America/New_York', at('2026-03-08T04:00:00Z'))?.toISOString(),
      '2026-03-08T11:00:00.000Z',
    );
  });

  test('an end time that does not exist that night moves to the first valid instant after the gap', () => {
    // 02:30 does not exist in New York on 2026-03-08; held from 01:00 EST (06:00Z) until 03:30 EDT (07:30Z).
    assert.equal(
      quietHoursEnd(qh('22:00', '02:30'), 'America/New_York', at('2026-03-08T06:00:00Z'))?.toISOString(),
      '2026-03-08T07:30:00.000Z',
    );
  });

  test('a night when clocks fall back: the window ends at local 07:00 standard time', () => {
    // New York, 2026-11-01: 02:00 EDT goes back to 01:00 EST. 23:30 EDT on Oct 31 = 03:30Z; 07:00 EST = 12:00Z.
    assert.equal(
      quietHoursEnd(qh('23:00', '07:00'), 'America/New_York', at('2026-11-01T03:30:00Z'))?.toISOString(),
      '2026-11-01T12:00:00.000Z',
    );
    // The repeated hour (01:30 EDT = 05:30Z, 01:30 EST = 06:30Z) is inside both times.
    assert.equal(
      quietHoursEnd(qh('23:00', '07:00'), 'America/New_York', at('2026-11-01T06:30:00Z'))?.toISOString(),
      '2026-11-01T12:00:00.000Z',
    );
  });

  test('no time zone means UTC', () => {
    assert.equal(
      quietHoursEnd(qh('00:00', '06:00'), null, at('2026-02-01T05:59:00Z'))?.toISOString(),
      '2026-02-01T06:00:00.000Z',
    );
  });

  test('a window limited to categories applies to those only', () => {
    assert.equal(quietHoursApply(qh('22:00', '07:00', ['marketing']), 'marketing'), true);
    assert.equal(quietHoursApply(qh('22:00', '07:00', ['marketing']), 'orders'), false);
    assert.equal(quietHoursApply(qh('22:00', '07:00', ['marketing']), null), false);
    assert.equal(quietHoursApply(qh('22:00', '07:00'), null), true);
  });
});
