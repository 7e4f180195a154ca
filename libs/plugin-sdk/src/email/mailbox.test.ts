import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitMailbox } from './mailbox';

test('splitMailbox: a bare address, a display name, a quoted display name with escapes', () => {
  assert.deepEqual(splitMailbox('shop@app.example'), { email: 'shop@app.example' });
  assert.deepEqual(splitMailbox('Shop <shop@app.example>'), { email: 'shop@app.example', name: 'Shop' });
  assert.deepEqual(splitMailbox('"Shop, \\"Inc.\\"" <shop@app.example>'), {
    email: 'shop@app.example',
    name: 'Shop, "Inc."',
  });
  assert.deepEqual(splitMailbox('<shop@app.example>'), { email: 'shop@app.example' });
});
