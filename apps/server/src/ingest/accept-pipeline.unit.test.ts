/**
 * Accepting a notification against in-memory fakes of what the pipeline reads and writes
 * (recipients, plan context, caps, SMS budget, the write step, the enqueuer, the fan-out queue):
 * no database, no Redis, milliseconds. The same paths against PostgreSQL and Redis are covered by
 * notifications/*.test.ts and fanout/*.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AnyChannelPlugin, defineChannelPlugin, type Priority } from '@clarion/plugin-sdk';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { type AppSettings, appSettingsSchema } from '../apps/app-settings';
import type { AppRecord } from '../apps/apps.service';
import { ApiError } from '../common/api-error';
import { ConflictError } from '../common/errors/domain-error';
import { domainErrorAnswer } from '../common/errors/error-answer';
import type { ContactRow, Recipient } from '../contacts/recipient';
import type { DeliveryPlan } from '../deliveries/delivery-plan';
import { DeliveryMetrics } from '../metrics/delivery-metrics';
import { PluginRegistry } from '../plugins/plugin-registry';
import { type NotificationRequest, notificationRequestSchema } from '../templates/notification-request';
import { AcceptPipeline } from './accept-pipeline';
import type { JobToQueue } from './accept-ports';
import type { NotificationRecord, StoreResult } from './notification-store';
import type { PlanContext } from './planner';

const fakePlugin = (name: string, channel: string, addressKind: 'url' | 'phone') => ({
  packageName: `@acme/${name}`,
  plugin: defineChannelPlugin({
    name,
    version: '1.0.0',
    sdkVersion: '^0.1.0',
    channel,
    addressKind,
    config: z.object({}),
    async createSender() {
      return { send: async () => ({}), close: async () => undefined };
    },
  }) as AnyChannelPlugin,
  config: {},
  version: '1.0.0',
  warnings: [],
});
const plugins = new PluginRegistry([
  fakePlugin('webhook', 'webhook', 'url'),
  fakePlugin('sms-gw', 'sms', 'phone'),
]);

const app = (settings: Partial<AppSettings> = {}): AppRecord => ({
  id: '00000000-0000-7000-8000-000000000001',
  name: 'shop',
  settings: appSettingsSchema.parse(settings),
});

const url = (id: string): ContactRow => ({
  id,
  kind: 'url',
  platform: null,
  channel: null,
  address: `https://hooks.example/${id}`,
  subscription: null,
  disabled: false,
});
const user = (externalId: string, contacts: ContactRow[] = [url(`c-${externalId}`)]): Recipient => ({
  userId: `uid-${externalId}`,
  externalId,
  locale: null,
  timezone: null,
  attributes: {},
  contacts,
  preferences: [],
  quietHours: null,
});

const request = (fields: Record<string, unknown>): NotificationRequest =>
  notificationRequestSchema.parse({ content: { webhook: { json: { hello: 'world' } } }, ...fields });

/** Every port as an in-memory fake, with what each was asked. */
function fakes(users: Recipient[], options: { threshold?: number } = {}) {
  const byId = new Map(users.map((u) => [u.externalId, u]));
  const saved: NotificationRecord[] = [];
  const events = new Map<string, { notificationId: string; bodyHash: string }>();
  const enqueued: JobToQueue[] = [];
  const fanouts: { notificationId: string; priority: Priority; delayMs: number }[] = [];
  const undone: string[] = [];
  const registry = new Registry();
  const state = {
    saved,
    enqueued,
    fanouts,
    undone,
    metrics: new DeliveryMetrics(registry),
    /** The write step fails (PostgreSQL away). */
    storeFails: false,
    /** Redis refuses the fan-out job. */
    redisAway: false,
    /** The cap suppresses every pending plan (`rate_limited`). */
    capped: false,
    /** SMS budget spent: the take is refused with a 429. */
    budgetSpent: false,
  };
  const pipeline = new AcceptPipeline({
    recipients: {
      load: async (_appId, ids) =>
        new Map(ids.flatMap((id) => (byId.has(id) ? [[id, byId.get(id)!] as const] : []))),
    },
    contexts: {
      build: async (a, notificationId, req, acceptedAt): Promise<PlanContext> => ({
        appId: a.id,
        appName: a.name,
        settings: a.settings,
        notificationId,
        request: req,
        contents: req.content ?? {},
        acceptedAt: acceptedAt.toISOString(),
        expiresAt: undefined,
        registry: plugins,
      }),
    },
    caps: {
      apply: async (_ctx, plans) => {
        if (state.capped)
          for (const p of plans)
            if (p.status === 'pending')
              Object.assign(p, { status: 'suppressed', reason: 'rate_limited', job: null });
        return async () => void undone.push('caps');
      },
    },
    smsBudget: {
      take: async () => {
        if (state.budgetSpent) throw new ApiError(429, 'rate_limited', 'spent');
        return async () => void undone.push('budget');
      },
    },
    store: {
      save: async (record): Promise<StoreResult> => {
        if (state.storeFails) throw new Error('connection terminated');
        const first = record.eventId === null ? undefined : events.get(record.eventId);
        if (first) return { outcome: 'duplicate', ...first };
        if (record.eventId !== null)
          events.set(record.eventId, { notificationId: record.id, bodyHash: record.bodyHash });
        saved.push(record);
        return { outcome: 'created' };
      },
    },
    enqueuer: {
      enqueue: async (items) => {
        enqueued.push(...items);
        return items.map(() => true);
      },
    },
    fanouts: {
      start: async (notificationId, _appId, priority, delayMs) => {
        if (state.redisAway) throw new Error('connect ECONNREFUSED');
        fanouts.push({ notificationId, priority, delayMs });
      },
    },
    metrics: state.metrics,
    fanoutThreshold: options.threshold ?? 1000,
  });
  const count = async (status: string, reason = '') =>
    (await state.metrics.deliveries.get()).values
      .filter((v) => v.labels.status === status && v.labels.reason === reason)
      .reduce((a, v) => a + v.value, 0);
  const total = async (counter: 'accepted' | 'deduplicated') =>
    (await state.metrics[counter].get()).values.reduce((a, v) => a + v.value, 0);
  return { pipeline, state, count, total };
}

describe('accepting a notification (in-memory fakes)', () => {
  test('named users: one write with every plan, 202 with the counts, then their jobs enqueued', async () => {
    const f = fakes([user('ann'), user('bob'), user('cy', [])]);
    const res = await f.pipeline.accept(
      app(),
      request({ to: { userIds: ['ann', 'bob', 'cy', 'ghost', 'ann'] } }),
    );

    assert.equal(res.status, 202);
    assert.deepEqual(res.body, { id: res.body.id, status: 'accepted', deliveries: 2, suppressed: 2 });
    assert.equal(f.state.saved.length, 1);
    const [saved] = f.state.saved;
    assert.equal(saved!.id, res.body.id);
    assert.equal(saved!.status, 'accepted');
    assert.equal(saved!.recipients, 3, 'ann once, bob, cy; ghost is no user');
    assert.deepEqual(
      saved!.plans.map((p) => `${p.userId}:${p.status}:${p.reason ?? ''}`).sort(),
      ['uid-ann:pending:', 'uid-bob:pending:', 'uid-cy:suppressed:no_contact'],
      'the unknown user is answered, not stored',
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(f.state.enqueued.map((e) => [e.job.userId, e.job.plugin, e.delayMs]).sort(), [
      ['ann', 'webhook', 0],
      ['bob', 'webhook', 0],
    ]);
    assert.ok(
      f.state.enqueued.every((e) => e.writtenQueued === true),
      'the request path writes its rows queued: the enqueuer has nothing to mark',
    );
    assert.equal(await f.total('accepted'), 1);
    assert.equal(await f.count('suppressed', 'no_contact'), 1);
    assert.deepEqual(f.state.undone, [], 'a stored notification keeps its cap slots');
  });

  test('a repeated eventId answers the first notification (200), writes and enqueues nothing, gives its caps back', async () => {
    const f = fakes([user('ann')]);
    const first = await f.pipeline.accept(app(), request({ to: { userId: 'ann' }, eventId: 'order-1' }));
    await new Promise((resolve) => setImmediate(resolve));
    const repeat = await f.pipeline.accept(app(), request({ to: { userId: 'ann' }, eventId: 'order-1' }));

    assert.deepEqual(repeat, {
      status: 200,
      body: { id: first.body.id, status: 'duplicate', duplicate: true },
    });
    assert.equal(f.state.saved.length, 1);
    assert.equal(f.state.enqueued.length, 1, 'only the first was enqueued');
    assert.deepEqual(f.state.undone, ['caps'], 'the repeat gave back its cap slots');
    assert.equal(await f.total('deduplicated'), 1);
    assert.equal(await f.total('accepted'), 1);
  });

  test('the same eventId with another body is a 409 naming the first notification (not to a client key)', async () => {
    const f = fakes([user('ann')]);
    const first = await f.pipeline.accept(app(), request({ to: { userId: 'ann' }, eventId: 'order-2' }));
    const other = request({ to: { userId: 'ann' }, eventId: 'order-2', category: 'other' });
    await assert.rejects(f.pipeline.accept(app(), other), (error: ConflictError) => {
      assert.ok(error instanceof ConflictError);
      assert.equal(domainErrorAnswer(error).status, 409);
      assert.equal(error.code, 'event_id_conflict');
      assert.deepEqual(error.details, { notificationId: first.body.id });
      return true;
    });
    await assert.rejects(
      f.pipeline.accept(app({ allowClientSending: true }), other, true),
      (error: ConflictError) => {
        assert.equal(error.code, 'event_id_conflict');
        assert.deepEqual(error.details, [], 'a client key learns no notification id');
        return true;
      },
    );
  });

  test('the write fails: the error reaches the caller, caps and SMS budget are given back, nothing is enqueued', async () => {
    const f = fakes([user('ann', [{ ...url('p1'), kind: 'phone', address: '+15550100' }])]);
    f.state.storeFails = true;
    const sms = notificationRequestSchema.parse({
      to: { userId: 'ann' },
      content: { sms: { text: 'code 1234' } },
    });
    await assert.rejects(
      f.pipeline.accept(app({ allowClientSending: true }), sms, true),
      /connection terminated/,
    );
    assert.deepEqual(f.state.undone, ['caps', 'budget']);
    assert.equal(f.state.enqueued.length, 0);
    assert.equal(await f.total('accepted'), 0);
  });

  test("a client-sent SMS takes its user's budget; a spent budget is a 429 that stores nothing and gives the caps back", async () => {
    const phone: ContactRow = { ...url('p1'), kind: 'phone', address: '+15550100' };
    const f = fakes([user('ann', [phone])]);
    const sms = notificationRequestSchema.parse({
      to: { userId: 'ann' },
      content: { sms: { text: 'code 1234' } },
    });
    const smsApp = app({ allowClientSending: true });

    const ok = await f.pipeline.accept(smsApp, sms, true);
    assert.deepEqual(ok.body, { id: ok.body.id, status: 'accepted', deliveries: 1, suppressed: 0 });
    assert.deepEqual(f.state.undone, [], 'stored: the budget stays taken');

    f.state.budgetSpent = true;
    await assert.rejects(f.pipeline.accept(smsApp, sms, true), (error: ApiError) => {
      assert.equal(error.getStatus(), 429);
      return true;
    });
    assert.deepEqual(f.state.undone, ['caps']);
    assert.equal(f.state.saved.length, 1, 'the refused request stored nothing');
  });

  test('over a cap: the delivery is stored suppressed (rate_limited) and counted, no job', async () => {
    const f = fakes([user('ann')]);
    f.state.capped = true;
    const res = await f.pipeline.accept(app(), request({ to: { userId: 'ann' } }));
    assert.deepEqual(res.body, { id: res.body.id, status: 'accepted', deliveries: 0, suppressed: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(f.state.enqueued.length, 0);
    assert.equal(await f.count('suppressed', 'rate_limited'), 1);
  });

  test('scheduled: stored `scheduled`, its jobs delayed until sendAt', async () => {
    const f = fakes([user('ann')]);
    const sendAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await f.pipeline.accept(app(), request({ to: { userId: 'ann' }, sendAt }));
    assert.equal(res.body.status, 'scheduled');
    assert.equal(f.state.saved[0]!.status, 'scheduled');
    await new Promise((resolve) => setImmediate(resolve));
    const delay = f.state.enqueued[0]!.delayMs;
    assert.ok(delay > 3_590_000 && delay <= 3_600_000, `delayed about an hour, not ${delay} ms`);
  });

  test('a topic, or more users than the threshold, is stored `fanout` with no rows and handed to a fan-out job', async () => {
    const f = fakes([user('ann'), user('bob')], { threshold: 1 });
    const topic = await f.pipeline.accept(app(), request({ to: { topic: 'news' }, priority: 'high' }));
    const many = await f.pipeline.accept(app(), request({ to: { userIds: ['ann', 'bob'] } }));

    for (const res of [topic, many])
      assert.deepEqual(res, { status: 202, body: { id: res.body.id, status: 'fanout' } });
    assert.deepEqual(
      f.state.saved.map((s) => [s.status, s.recipients, s.plans.length]),
      [
        ['fanout', 0, 0],
        ['fanout', 0, 0],
      ],
    );
    assert.deepEqual(f.state.fanouts, [
      { notificationId: topic.body.id, priority: 'high', delayMs: 0 },
      { notificationId: many.body.id, priority: 'normal', delayMs: 0 },
    ]);
    assert.equal(f.state.enqueued.length, 0);
  });

  test('Redis away when a fan-out is accepted: still 202 (PostgreSQL has it; the relay adds its job later)', async () => {
    const f = fakes([]);
    f.state.redisAway = true;
    const res = await f.pipeline.accept(app(), request({ to: { topic: 'news' } }));
    assert.equal(res.status, 202);
    assert.equal(f.state.saved.length, 1);
    assert.equal(f.state.fanouts.length, 0);
  });

  test('steps: only the first step is planned now; each later step is written with the notification, per known user, due after its wait', async () => {
    const phone: ContactRow = { ...url('p-ann'), kind: 'phone', address: '+14155550100' };
    const f = fakes([user('ann', [url('c-ann'), phone]), user('bob')]);
    const acceptedBy = Date.now();
    const res = await f.pipeline.accept(
      app(),
      request({
        to: { userIds: ['ann', 'bob', 'ghost'] },
        content: { webhook: { json: {} }, sms: { text: 'Your code is 123456' } },
        steps: [{ channel: 'webhook' }, { channel: 'sms', after: '10m', unless: ['opened', 'clicked'] }],
      }),
    );
    assert.deepEqual(res.body, { id: res.body.id, status: 'accepted', deliveries: 2, suppressed: 1 });
    const [saved] = f.state.saved;
    assert.deepEqual(
      saved!.plans.map((p) => p.channel),
      ['webhook', 'webhook'],
      'no SMS planned at accept',
    );
    assert.equal((saved!.request as NotificationRequest).steps?.length, 2, 'the request is stored as given');
    assert.deepEqual(
      saved!.steps?.map((s) => [s.notificationId, s.userId, s.step, s.channel, s.unless]),
      [
        [res.body.id, 'uid-ann', 1, 'sms', ['opened', 'clicked']],
        [res.body.id, 'uid-bob', 1, 'sms', ['opened', 'clicked']],
      ],
      'one waiting step per known user; none for ghost',
    );
    for (const s of saved!.steps ?? []) {
      const wait = Date.parse(s.dueAt) - acceptedBy;
      assert.ok(
        wait >= 600_000 - 1000 && wait <= 600_000 + 1000,
        `due ten minutes after accept (${wait} ms)`,
      );
    }
  });

  test('steps to more users than the fan-out threshold: a 400 that stores nothing', async () => {
    const f = fakes([user('ann'), user('bob')], { threshold: 1 });
    await assert.rejects(
      f.pipeline.accept(
        app(),
        request({
          to: { userIds: ['ann', 'bob'] },
          content: { webhook: { json: {} }, sms: { text: 'hi' } },
          steps: [{ channel: 'webhook' }, { channel: 'sms', after: '1m' }],
        }),
      ),
      (error: unknown) => error instanceof ApiError && error.getStatus() === 400,
    );
    assert.equal(f.state.saved.length, 0);
    assert.equal(f.state.fanouts.length, 0);
  });
});

describe('a fan-out chunk through the same pipeline (in-memory fakes)', () => {
  const ctxFor = (req: NotificationRequest): PlanContext => ({
    appId: app().id,
    appName: 'shop',
    settings: app().settings,
    notificationId: '00000000-0000-7000-8000-0000000000aa',
    request: req,
    contents: req.content ?? {},
    acceptedAt: new Date().toISOString(),
    expiresAt: undefined,
    registry: plugins,
  });

  test('only the rows the write inserted are counted and enqueued (a chunk read again does neither twice)', async () => {
    const f = fakes([]);
    const ctx = ctxFor(request({ to: { topic: 'news' } }));
    const chunk = [user('ann'), user('bob'), user('cy', [])];
    let written: DeliveryPlan[] = [];
    const plans = await f.pipeline.planChunk(ctx, chunk);
    await f.pipeline.storeChunk(plans, async (p) => {
      written = p;
      // bob's and cy's rows were written by an earlier run of this chunk
      return new Set(p.filter((x) => x.userId === 'uid-ann').map((x) => x.id));
    });

    assert.equal(plans.length, 3);
    assert.deepEqual(written, plans, 'every plan is handed to the write step');
    assert.deepEqual(
      f.state.enqueued.map((e) => [e.job.userId, e.writtenQueued]),
      [['ann', true]],
      'a chunk writes its rows queued: the enqueuer has nothing to mark',
    );
    assert.equal(await f.count('suppressed', 'no_contact'), 0, "cy's suppressed row was not inserted now");
  });

  test('a user whose content cannot render gets a suppressed row, not a failed campaign', async () => {
    const f = fakes([]);
    const huge = 'x'.repeat(300_000);
    const ctx = ctxFor(
      request({ to: { topic: 'news' }, content: { webhook: { json: { text: '{{ user.note }}' } } } }),
    );
    const plans = await f.pipeline.planChunk(ctx, [
      { ...user('ann'), attributes: { note: huge } },
      { ...user('bob'), attributes: { note: 'hi' } },
      user('cy'),
    ]);
    await f.pipeline.storeChunk(plans, async (p) => new Set(p.map((x) => x.id)));
    assert.deepEqual(
      plans.map((p) => `${p.userId}:${p.status}:${p.reason ?? ''}`),
      ['uid-ann:suppressed:content_too_large', 'uid-bob:pending:', 'uid-cy:suppressed:template_error'],
    );
    assert.equal(await f.count('suppressed', 'content_too_large'), 1);
    assert.equal(await f.count('suppressed', 'template_error'), 1);
    assert.deepEqual(
      f.state.enqueued.map((e) => e.job.userId),
      ['bob'],
    );
  });
});
