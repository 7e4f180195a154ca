import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { twilioFake } from '@clarion/sandbox';
import { waitFor } from '@clarion/testkit';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface ContactView {
  field: string;
  address: string;
  disabled: boolean;
  disabledReason: string | null;
  disabledAt: string | null;
}
interface UserView {
  phone: string | null;
  email: string | null;
  contacts: ContactView[];
}

/** A contact a provider declared dead is shown disabled, with why and when, until it is set again. */
describe('GET /v1/users/:id shows each contact’s disabled state', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({
      label: 'disabledcontacts',
      fakes: [twilioFake()],
      env: { CLARION_PLUGINS: '@clarion/plugin-webhook,@clarion/plugin-twilio' },
    });
    app = await h.createApp();
  });
  after(() => h.close());

  const user = async () => json<UserView>(await app.call('/v1/users/dora'));

  test('after Twilio says the number is invalid, the phone is disabled (reason and time); setting it again enables it', async () => {
    const phone = '+14155550377';
    const put = await app.call('/v1/users/dora', {
      method: 'PUT',
      body: { phone, email: 'dora@example.com' },
    });
    assert.equal(put.status, 201);
    const listed = (await user()).contacts
      .map((c) => [c.field, c.address, c.disabled, c.disabledReason, c.disabledAt])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    assert.deepEqual(listed, [
      ['email', 'dora@example.com', false, null, null],
      ['phone', phone, false, null, null],
    ]);
    h.sandbox.behaviors.add({ provider: 'twilio', to: phone, fail: '21211' });
    const before = Date.now();
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: 'dora' }, content: { sms: { text: 'Your code is 1234' } } },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    await waitFor('failed', async () => {
      const view = await json<{ deliveries: { status: string; reason: string | null }[] }>(
        await app.call(`/v1/notifications/${id}`),
      );
      return view.deliveries[0]?.status === 'failed' ? view.deliveries[0] : undefined;
    });
    const disabled = await waitFor('phone disabled', async () =>
      (await user()).contacts.find((c) => c.field === 'phone' && c.disabled),
    );
    assert.equal(disabled.address, phone);
    assert.equal(disabled.disabledReason, 'invalid');
    assert.ok(Date.parse(disabled.disabledAt ?? '') >= before - 1000, disabled.disabledAt ?? 'no time');
    const email = (await user()).contacts.find((c) => c.field === 'email');
    assert.equal(email?.disabled, false, 'the other contacts stay enabled');

    assert.equal((await app.call('/v1/users/dora', { method: 'PUT', body: { phone } })).status, 200);
    const again = (await user()).contacts.find((c) => c.field === 'phone');
    assert.deepEqual(again, {
      field: 'phone',
      address: phone,
      disabled: false,
      disabledReason: null,
      disabledAt: null,
    });
  });
});
