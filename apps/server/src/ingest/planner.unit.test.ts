import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AddressKind,
  type AnyChannelPlugin,
  defineChannelPlugin,
  type Platform,
} from '@clarion/plugin-sdk';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { appSettingsSchema } from '../apps/app-settings';
import { DomainError } from '../common/errors/domain-error';
import { domainErrorAnswer } from '../common/errors/error-answer';
import { newId } from '../common/ids';
import { loadEnv } from '../config/env';
import { RecipientLoader } from '../contacts/recipient-loader';
import type { DeliveryPlan } from '../deliveries/delivery-plan';
import type { LoadedPlugin } from '../plugins/plugin-loader';
import { PluginRegistry } from '../plugins/plugin-registry';
import { PreferencesService } from '../preferences/preferences.service';
import { notificationRequestSchema } from '../templates/notification-request';
import { TemplateMetrics } from '../templates/template-metrics';
import { TemplateResolver } from '../templates/template-resolver';
import {
  InMemoryApps,
  InMemoryData,
  InMemoryPreferences,
  InMemoryTemplates,
  InMemoryUsers,
  type NewUser,
} from '../testing/in-memory-repositories';
import { PreferenceCentreTokens } from '../unsubscribe/preference-centre-token';
import { UnsubscribeTokens } from '../unsubscribe/unsubscribe-token';
import { LinkTracking } from './link-tracking.service';
import { PlanContextService } from './plan-context.service';
import { planRecipient } from './planner';

/**
 * The planner and the context it is given, against in-memory repositories: which deliveries a
 * notification becomes for one user (channel, provider, fallback chain, rendered content) and
 * which are suppressed or held, and why. No database, no Redis: milliseconds per test.
 */

const KEY = Buffer.alloc(32, 7).toString('base64');
const env = loadEnv({
  DATABASE_URL: 'postgres://unused.invalid/none',
  REDIS_URL: 'redis://unused.invalid',
  CLARION_ADMIN_TOKEN: 'unit-test-admin-token',
  CLARION_ENCRYPTION_KEY: KEY,
  CLARION_PUBLIC_URL: 'https://clarion.test',
});

const plugin = (
  name: string,
  channel: string,
  addressKind: AddressKind,
  platforms?: Platform[],
): LoadedPlugin => ({
  packageName: `@acme/${name}`,
  plugin: defineChannelPlugin({
    name,
    version: '1.0.0',
    sdkVersion: '^0.1.0',
    channel,
    addressKind,
    ...(platforms ? { platforms } : {}),
    config: z.object({}),
    async createSender() {
      return {
        async send() {
          return {};
        },
        async close() {},
      };
    },
  }) as AnyChannelPlugin,
  config: {},
  version: '1.0.0',
  warnings: [],
});

const PLUGINS = [
  plugin('fcm', 'push', 'device', ['android']),
  plugin('apns', 'push', 'device', ['ios']),
  plugin('sendgrid', 'email', 'email'),
  plugin('smtp', 'email', 'email'),
  plugin('twilio', 'sms', 'phone'),
  plugin('webhook', 'webhook', 'url'),
];

/** One server's worth of services over fresh in-memory repositories. */
function world(preferenceTokens = new PreferenceCentreTokens(KEY)) {
  const data = new InMemoryData();
  const users = new InMemoryUsers(data);
  const prefs = new InMemoryPreferences(data);
  const templates = new InMemoryTemplates();
  const apps = new InMemoryApps();
  const registry = new PluginRegistry(PLUGINS);
  const contexts = new PlanContextService(
    registry,
    new TemplateResolver(env, templates, new TemplateMetrics(new Registry())),
    new LinkTracking(env),
    env,
    new UnsubscribeTokens(KEY),
    preferenceTokens,
  );
  const loader = new RecipientLoader(users);
  const preferences = new PreferencesService(prefs, registry);

  const addApp = async (settings: Record<string, unknown> = {}) => {
    const app = { id: newId(), name: 'Acme', settings: appSettingsSchema.parse(settings) };
    await apps.insert(app, 'v1.sealed');
    return app.id;
  };
  const addUser = (appId: string, externalId: string, u: NewUser = {}) => users.add(appId, externalId, u);

  /** What accepting `body` for one user plans (undefined: no such user), as the request path does it. */
  const plan = async (appId: string, externalId: string, body: Record<string, unknown>) => {
    const app = await apps.find(appId);
    assert.ok(app, 'the app exists');
    const request = notificationRequestSchema.parse({ to: { userId: externalId }, ...body });
    const ctx = await contexts.build(app, newId(), request, new Date());
    const recipient = (await loader.load(appId, [externalId])).get(externalId);
    return recipient ? planRecipient(ctx, recipient) : undefined;
  };
  return { apps, templates, preferences, addApp, addUser, plan };
}

/** channel → status (reason) / plugin, the way a reader of the plans would summarise them. */
const summary = (plans: DeliveryPlan[] | undefined) =>
  (plans ?? []).map((p) =>
    p.status === 'suppressed'
      ? `${p.channel}: suppressed (${p.reason})`
      : `${p.channel}: ${p.status} via ${p.plugin}${p.reason ? ` (${p.reason})` : ''}`,
  );

const content = {
  push: { title: 'Hi', body: 'Your order shipped' },
  email: { subject: 'Shipped', text: 'Your order shipped' },
  sms: { text: 'Your order shipped' },
};

describe('planning one user (in-memory repositories)', () => {
  test('channel choice: each channel goes to the contact it uses; the device platform picks the push provider', async () => {
    const w = world();
    const appId = await w.addApp();
    w.addUser(appId, 'ana', {
      email: 'ana@example.com',
      devices: [
        { platform: 'android', token: 'android-token-1' },
        { platform: 'ios', token: 'ios-token-1' },
      ],
    });
    const plans = await w.plan(appId, 'ana', { content });
    assert.deepEqual(summary(plans), [
      'push: pending via fcm',
      'push: pending via apns',
      'sms: suppressed (no_contact)',
      'email: pending via sendgrid',
    ]);
    const email = plans!.find((p) => p.channel === 'email')!;
    assert.deepEqual(email.job?.address, {
      kind: 'email',
      contactId: email.contactId,
      email: 'ana@example.com',
    });
    assert.equal(email.job?.content.subject, 'Shipped');
  });

  test('`channels` narrows the request to the channels named', async () => {
    const w = world();
    const appId = await w.addApp();
    w.addUser(appId, 'ana', { email: 'ana@example.com', phone: '+14155550100' });
    assert.deepEqual(summary(await w.plan(appId, 'ana', { content, channels: ['sms'] })), [
      'sms: pending via twilio',
    ]);
  });

  test("an opt-out set through the preferences service silences that channel for that category only; the app's critical categories pass", async () => {
    const w = world();
    const appId = await w.addApp();
    w.addUser(appId, 'ben', { email: 'ben@example.com', phone: '+14155550101' });
    const settings = (await w.apps.find(appId))!.settings;
    assert.equal(
      await w.preferences.put(
        appId,
        settings,
        'ben',
        { rules: [{ channel: 'email', category: 'marketing', enabled: false }] },
        'api',
      ),
      true,
    );
    const body = { content: { email: content.email, sms: content.sms } };
    assert.deepEqual(summary(await w.plan(appId, 'ben', { ...body, category: 'marketing' })), [
      'sms: pending via twilio',
      'email: suppressed (opted_out)',
    ]);
    assert.deepEqual(summary(await w.plan(appId, 'ben', { ...body, category: 'orders' })), [
      'sms: pending via twilio',
      'email: pending via sendgrid',
    ]);

    await w.preferences.put(
      appId,
      settings,
      'ben',
      { rules: [{ channel: '*', category: '*', enabled: false }] },
      'api',
    );
    assert.deepEqual(summary(await w.plan(appId, 'ben', { ...body, category: 'orders' })), [
      'sms: suppressed (opted_out)',
      'email: suppressed (opted_out)',
    ]);
    assert.deepEqual(
      summary(await w.plan(appId, 'ben', { ...body, category: 'security' })),
      ['sms: pending via twilio', 'email: pending via sendgrid'],
      'security is critical by default',
    );
  });

  test("an opt_in category needs the user's yes: suppressed until they opt in, then sent", async () => {
    const w = world();
    const appId = await w.addApp({ categoryDefaults: { digest: 'opt_in' } });
    w.addUser(appId, 'cy', { email: 'cy@example.com' });
    const body = { content: { email: content.email }, category: 'digest' };
    assert.deepEqual(summary(await w.plan(appId, 'cy', body)), [
      'email: suppressed (category_opt_in_required)',
    ]);
    const settings = (await w.apps.find(appId))!.settings;
    await w.preferences.put(
      appId,
      settings,
      'cy',
      { rules: [{ channel: 'email', category: 'digest', enabled: true }] },
      'api',
    );
    assert.deepEqual(summary(await w.plan(appId, 'cy', body)), ['email: pending via sendgrid']);
  });

  test('a refused preferences request changes nothing (critical category), so planning is as before', async () => {
    const w = world();
    const appId = await w.addApp();
    w.addUser(appId, 'dee', { email: 'dee@example.com' });
    const settings = (await w.apps.find(appId))!.settings;
    await assert.rejects(
      w.preferences.put(
        appId,
        settings,
        'dee',
        { rules: [{ channel: 'email', category: 'security', enabled: false }] },
        'api',
      ),
      (error: unknown) =>
        error instanceof DomainError &&
        error.code === 'critical_category' &&
        domainErrorAnswer(error).status === 422,
    );
    assert.deepEqual(summary(await w.plan(appId, 'dee', { content: { email: content.email } })), [
      'email: pending via sendgrid',
    ]);
  });

  test("quiet hours hold a delivery until the window ends in the user's time zone; critical categories are not held", async () => {
    const w = world();
    const appId = await w.addApp();
    w.addUser(appId, 'eve', { email: 'eve@example.com', timezone: 'America/New_York' });
    // A window from an hour ago to an hour from now, wall-clock in the user's zone (wraps midnight when it must).
    const hhmm = (at: number) =>
      new Intl.DateTimeFormat('en-GB', {
        timeZone: 'America/New_York',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(at);
    const now = Date.now();
    const settings = (await w.apps.find(appId))!.settings;
    await w.preferences.put(
      appId,
      settings,
      'eve',
      { quietHours: { start: hhmm(now - 3_600_000), end: hhmm(now + 3_600_000) } },
      'api',
    );
    const [held] = (await w.plan(appId, 'eve', { content: { email: content.email }, category: 'news' }))!;
    assert.equal(held!.status, 'pending');
    assert.equal(held!.reason, 'quiet_hours');
    const until = Date.parse(held!.hold!.until);
    assert.ok(
      until > now && until <= now + 3_600_000,
      `held until the window's end, not ${held!.hold!.until}`,
    );

    const [critical] = (await w.plan(appId, 'eve', {
      content: { email: content.email },
      category: 'security',
    }))!;
    assert.equal(critical!.hold, undefined);
    assert.equal(critical!.reason, null);
  });

  test("a stored template renders in the user's locale, falling back pt-BR → pt → the default", async () => {
    const w = world();
    const appId = await w.addApp();
    await w.templates.publish(appId, 'shipped', {
      description: null,
      defaultLocale: 'en',
      content: { email: { subject: 'Shipped, {{ user.id }}', text: 'Order {{ data.order }}' } },
      locales: { pt: { email: { subject: 'Enviado, {{ user.id }}' } } },
      checks: { basis: 'static', locales: {} },
    });
    w.addUser(appId, 'joao', { email: 'joao@example.com', locale: 'pt-BR' });
    w.addUser(appId, 'hans', { email: 'hans@example.com', locale: 'de' });
    const body = { template: 'shipped', data: { order: 'A-1' } };
    const [pt] = (await w.plan(appId, 'joao', body))!;
    const [de] = (await w.plan(appId, 'hans', body))!;
    assert.deepEqual(
      [pt!.job?.content.subject, pt!.job?.content.text],
      ['Enviado, joao', 'Order A-1'],
      'pt-BR gets the pt variant; what it leaves out comes from the default',
    );
    assert.deepEqual([de!.job?.content.subject, de!.job?.content.text], ['Shipped, hans', 'Order A-1']);
  });

  test('an unknown or archived template is a 422 unknown_template before anything is planned', async () => {
    const w = world();
    const appId = await w.addApp();
    w.addUser(appId, 'kim', { email: 'kim@example.com' });
    const unknownTemplate = (error: unknown) =>
      // A domain error: the edge answers it with the catalog's status.
      error instanceof DomainError &&
      error.code === 'unknown_template' &&
      domainErrorAnswer(error).status === 422;
    await assert.rejects(w.plan(appId, 'kim', { template: 'nope' }), unknownTemplate);
    await w.templates.publish(appId, 'old', {
      description: null,
      defaultLocale: null,
      content: { email: { subject: 'Old', text: 'Old' } },
      locales: {},
      checks: { basis: 'static', locales: {} },
    });
    await w.templates.archive(appId, 'old');
    await assert.rejects(w.plan(appId, 'kim', { template: 'old' }), unknownTemplate);
  });

  test('a missing or provider-disabled contact is a suppressed delivery (no_contact); an unknown user plans nothing', async () => {
    const w = world();
    const appId = await w.addApp();
    w.addUser(appId, 'lea', { email: 'lea@example.com', phone: '+14155550102', disabled: ['+14155550102'] });
    assert.deepEqual(summary(await w.plan(appId, 'lea', { content })), [
      'push: suppressed (no_contact)',
      'sms: suppressed (no_contact)',
      'email: pending via sendgrid',
    ]);
    assert.equal(await w.plan(appId, 'nobody', { content }), undefined);
  });

  test("e-mail fallback: the app's provider order picks SendGrid and carries SMTP as the fallback chain", async () => {
    const w = world();
    const ordered = await w.addApp({ providers: { email: ['sendgrid', 'smtp'] } });
    const reversed = await w.addApp({ providers: { email: ['smtp', 'sendgrid'] } });
    const plain = await w.addApp();
    for (const appId of [ordered, reversed, plain]) w.addUser(appId, 'max', { email: 'max@example.com' });
    const body = { content: { email: content.email } };
    const [a] = (await w.plan(ordered, 'max', body))!;
    const [b] = (await w.plan(reversed, 'max', body))!;
    const [c] = (await w.plan(plain, 'max', body))!;
    assert.deepEqual([a!.job?.plugin, a!.job?.fallback], ['sendgrid', ['smtp']]);
    assert.deepEqual([b!.job?.plugin, b!.job?.fallback], ['smtp', ['sendgrid']]);
    assert.deepEqual(
      [c!.job?.plugin, c!.job?.fallback],
      ['sendgrid', undefined],
      'without an order: the first loaded provider alone',
    );
  });

  test("e-mail carries the app's List-Unsubscribe headers, except for critical categories", async () => {
    const w = world();
    const appId = await w.addApp();
    w.addUser(appId, 'ned', { email: 'ned@example.com' });
    const [news] = (await w.plan(appId, 'ned', { content: { email: content.email }, category: 'news' }))!;
    const headers = news!.job?.content.headers ?? {};
    assert.match(headers['List-Unsubscribe'] ?? '', /^<https:\/\/clarion\.test\/v1\/unsubscribe\?token=/);
    assert.equal(headers['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click');
    const [security] = (await w.plan(appId, 'ned', {
      content: { email: content.email },
      category: 'security',
    }))!;
    assert.equal(security!.job?.content.headers, undefined);
  });

  test('links.preferences is signed only when content reads it, once per recipient however many channels do', async () => {
    let signed = 0;
    const tokens = new (class extends PreferenceCentreTokens {
      override sign(claim: Parameters<PreferenceCentreTokens['sign']>[0]): string {
        signed += 1;
        return super.sign(claim);
      }
    })(KEY);
    const w = world(tokens);
    const appId = await w.addApp();
    w.addUser(appId, 'pia', { email: 'pia@example.com', phone: '+15550100' });
    await w.plan(appId, 'pia', { content });
    assert.equal(signed, 0, 'content without the variable signs nothing');

    const plans = (await w.plan(appId, 'pia', {
      content: {
        email: { subject: 'Prefs', text: 'Manage: {{ links.preferences }}' },
        sms: { text: '{{ links.preferences }}' },
      },
    }))!;
    assert.equal(signed, 1);
    const email = plans.find((p) => p.channel === 'email')!.job!.content.text!;
    const sms = plans.find((p) => p.channel === 'sms')!.job!.content.text!;
    assert.match(sms, /^https:\/\/clarion\.test\/v1\/preferences\/page\?token=[\w-]+\.[\w-]{43}$/);
    assert.equal(email, `Manage: ${sms}`);
    assert.equal(tokens.verify(new URL(sms).searchParams.get('token')).userId, plans[0]!.userId);

    // A stored template whose only mention is in a locale variant still gets the link there.
    await w.templates.publish(appId, 'footer', {
      description: null,
      defaultLocale: null,
      content: { email: { subject: 'Hi', text: 'Hi' } },
      locales: { pt: { email: { subject: 'Olá', text: 'Preferências: {{ links.preferences }}' } } },
      checks: { basis: 'static', locales: {} },
    });
    w.addUser(appId, 'rui', { email: 'rui@example.com', locale: 'pt' });
    const [pt] = (await w.plan(appId, 'rui', { template: 'footer' }))!;
    assert.match(
      pt!.job!.content.text ?? '',
      /^Preferências: https:\/\/clarion\.test\/v1\/preferences\/page\?token=/,
    );
    assert.equal(signed, 2);
  });

  test("the webhook channel falls back to the app's webhookUrl for a user without one", async () => {
    const w = world();
    const appId = await w.addApp({ webhookUrl: 'https://hooks.example.com/in' });
    w.addUser(appId, 'ola');
    const [hook] = (await w.plan(appId, 'ola', { content: { webhook: { json: { a: 1 } } } }))!;
    assert.equal(hook!.status, 'pending');
    assert.equal(hook!.contactId, null);
    assert.deepEqual(hook!.job?.address, { kind: 'url', contactId: '', url: 'https://hooks.example.com/in' });
    assert.deepEqual(hook!.job?.content, { json: { a: 1 } });
  });

  test('a stored template is read once per version: planning many notifications hits the resolver cache', async () => {
    const w = world();
    const appId = await w.addApp();
    await w.templates.publish(appId, 'hello', {
      description: null,
      defaultLocale: null,
      content: { sms: { text: 'Hello {{ user.id }}' } },
      locales: {},
      checks: { basis: 'static', locales: {} },
    });
    w.addUser(appId, 'pia', { phone: '+14155550103' });
    for (let i = 0; i < 5; i++) {
      const [sms] = (await w.plan(appId, 'pia', { template: 'hello' }))!;
      assert.equal(sms!.job?.content.text, 'Hello pia');
    }
    assert.equal(w.templates.versionReads, 1);
  });
});
