import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { DeliveryMetrics } from '../metrics/delivery-metrics';
import { StepMetrics } from './step-metrics';
import { type RecordedStep, StepRecorded } from './step-recorded';

const step = (over: Partial<RecordedStep>): RecordedStep => ({
  id: 'x',
  step: 'sent',
  writer: 'outcome',
  at: '2026-12-07T00:00:00.000Z',
  appId: 'a',
  deliveryId: 'd',
  notificationId: 'n',
  userId: null,
  channel: 'push',
  plugin: 'fcm',
  providerMessageId: null,
  reason: null,
  errorCode: null,
  errorMessage: null,
  ...over,
});

test('a batch of steps counts each label set once per step, runs and interleavings alike', async () => {
  const registry = new Registry();
  const steps = new StepRecorded();
  new StepMetrics(steps, new DeliveryMetrics(registry));
  const sent = step({});
  const mail = step({ channel: 'email', plugin: 'sendgrid' });
  const failed = step({ step: 'failed', reason: 'invalid_token' });
  const reported = step({ step: 'failed', writer: 'tracking' });
  const clicked = step({ step: 'clicked', writer: 'tracking', channel: 'email', plugin: 'sendgrid' });
  steps.emit([sent, sent, sent, mail, sent, failed, failed, mail, reported, clicked, clicked]);
  steps.emit([sent]);

  const values = async (name: string) =>
    new Map(
      ((await registry.getSingleMetric(name)?.get())?.values ?? []).map((v) => [
        Object.values(v.labels).join('/'),
        v.value,
      ]),
    );
  assert.deepEqual(
    await values('clarion_deliveries_total'),
    new Map([
      ['push/fcm/sent/', 5],
      ['email/sendgrid/sent/', 2],
      ['push/fcm/failed/invalid_token', 2],
      ['push/fcm/failed/provider_report', 1],
      ['email/sendgrid/clicked/', 2],
    ]),
  );
  assert.deepEqual(await values('clarion_tracking_events_total'), new Map([['email/clicked', 2]]));
});
