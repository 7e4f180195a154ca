import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type RecordedStep, StepRecorded } from './step-recorded';

const step = (deliveryId: string): RecordedStep => ({
  id: `${deliveryId}.sent`,
  step: 'sent',
  writer: 'outcome',
  at: '2026-12-06T00:00:00.000Z',
  appId: 'app',
  deliveryId,
  notificationId: 'n',
  userId: null,
  channel: 'push',
  plugin: 'apns',
  providerMessageId: null,
  reason: null,
  errorCode: null,
  errorMessage: null,
});

describe('the step-recorded bus', () => {
  test('every listener hears every batch, also when one before it throws; an empty batch is not emitted', () => {
    const bus = new StepRecorded();
    const heard: string[][] = [];
    bus.on(() => {
      throw new Error('a broken listener');
    });
    bus.on((steps) => heard.push(steps.map((s) => s.deliveryId)));
    bus.emit([step('a'), step('b')]);
    bus.emit([]);
    bus.emit([step('c')]);
    assert.deepEqual(heard, [['a', 'b'], ['c']]);
  });
});
