import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidAddressError } from '@clarion/plugin-sdk';
import { twilioStep } from './callbacks';
import { classifyTwilioError } from './classify';
import { INVALID_NUMBER, OPTED_OUT } from './error-codes';

test('one table: every dead-number code disables the contact whether Twilio refuses the send or reports it in a callback', () => {
  for (const code of INVALID_NUMBER) {
    const atSend = classifyTwilioError({ status: 400, code, message: 'dead' });
    assert.ok(atSend instanceof InvalidAddressError, String(code));
    assert.equal(atSend.reason, 'invalid');
    const inCallback = twilioStep(
      { MessageSid: 'SM1', MessageStatus: 'undelivered', ErrorCode: String(code) },
      undefined,
    );
    assert.equal(inCallback?.reason, 'invalid_address', String(code));
    assert.equal(inCallback?.disableContact, `twilio_${code}`);
  }
  const stopAtSend = classifyTwilioError({ status: 400, code: OPTED_OUT, message: 'stop' });
  assert.ok(stopAtSend instanceof InvalidAddressError && stopAtSend.reason === 'opted_out');
  const stopInCallback = twilioStep(
    { MessageSid: 'SM1', MessageStatus: 'failed', ErrorCode: String(OPTED_OUT) },
    undefined,
  );
  assert.deepEqual([stopInCallback?.reason, stopInCallback?.optOut], ['opted_out', 'sms_stop']);
  // A code outside the table is an undelivered message, the number kept.
  const other = twilioStep(
    { MessageSid: 'SM1', MessageStatus: 'undelivered', ErrorCode: '30007' },
    undefined,
  );
  assert.deepEqual([other?.reason, other?.disableContact], ['undelivered', undefined]);
});
