import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SDK_VERSION } from '@clarion/plugin-sdk';

export const CHAT_PACKAGE = '@acme/clarion-plugin-chat';

/**
 * A custom plugin on a channel the core does not know (`chat`), written as an outside author
 * would: plain JavaScript requiring the SDK and zod, installed in a plugin folder (like the
 * image's /app/plugins-extra/node_modules). It posts `job.content` to the user's hook URL; 404 or
 * 410 means the hook is gone. Its callbacks are HMAC-signed JSON: receipts at `/v1/callbacks/chat`,
 * replies (`STOP`/`START`) at `/v1/callbacks/chat/inbound`.
 */
const SOURCE = `
const { createHmac } = require('node:crypto');
const {
  defineChannelPlugin, InvalidAddressError, RetryableError, CallbackNotConfigured, CallbackPayloadError,
} = require('@clarion/plugin-sdk');
const { z } = require('zod');

exports.default = defineChannelPlugin({
  name: 'chat',
  version: '1.2.3',
  sdkVersion: '^${SDK_VERSION}',
  channel: 'chat',
  addressKind: 'url',
  addressSchema: z.url().regex(/\\/hooks\\/[a-z0-9-]+$/, 'a chat hook URL (…/hooks/<id>)'),
  contentSchema: z
    .object({ text: z.string().min(1).max(500), mentions: z.array(z.string().max(50)).max(10).optional() })
    .strict(),
  config: z.object({ signingSecret: z.string().min(8).optional() }),
  async createSender() {
    return {
      async send(job) {
        const res = await fetch(job.address.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(job.content),
        });
        if (res.status === 404 || res.status === 410) throw new InvalidAddressError('hook gone (' + res.status + ')');
        if (!res.ok) throw new RetryableError('chat answered ' + res.status);
        const body = await res.json();
        return { providerMessageId: body.id };
      },
      async close() {},
    };
  },
  callbacks: {
    verify(request, { config }) {
      if (!config || !config.signingSecret) throw new CallbackNotConfigured('CLARION_CHAT_SIGNING_SECRET is not set');
      const expected = createHmac('sha256', config.signingSecret).update(request.rawBody || '').digest('hex');
      return request.headers['x-chat-signature'] === expected;
    },
    parse(request) {
      const body = request.body || {};
      if (request.path === 'inbound') {
        if (typeof body.hook !== 'string' || typeof body.text !== 'string') throw new CallbackPayloadError('expected {hook, text}');
        const word = body.text.trim().toUpperCase();
        if (word !== 'STOP' && word !== 'START') return { replies: [] };
        return { replies: [{ from: body.hook, action: word === 'STOP' ? 'opt_out' : 'opt_in' }] };
      }
      if (typeof body.messageId !== 'string') throw new CallbackPayloadError('expected {messageId, event}');
      return { steps: [{ providerMessageId: body.messageId, status: body.event === 'read' ? 'opened' : 'delivered' }] };
    },
  },
});
`;

/** Writes the package under `pluginPath` (a node_modules folder). */
export function installChatPlugin(pluginPath: string): void {
  const dir = join(pluginPath, CHAT_PACKAGE);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: CHAT_PACKAGE, version: '1.2.3', main: 'index.js' }),
  );
  writeFileSync(join(dir, 'index.js'), SOURCE);
}
