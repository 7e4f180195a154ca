import { createDecipheriv, createHmac, createPublicKey, type ECDH, type KeyObject } from 'node:crypto';

/**
 * RFC 8291 (Message Encryption for Web Push) over RFC 8188 `aes128gcm`, receiver side: what a
 * browser does with a push message. The fake decrypts every message so the sandbox shows what
 * the user would see and catches a plugin that encrypts for the wrong keys.
 */
const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

export class WebPushDecryptError extends Error {}

export function decryptAes128gcm(body: Buffer, ua: ECDH, authSecret: Buffer): Buffer {
  if (body.length < 21) throw new WebPushDecryptError('body shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  if (idlen !== 65)
    throw new WebPushDecryptError(`keyid must be the sender's 65-byte public key, got ${idlen} bytes`);
  if (rs < 18) throw new WebPushDecryptError('record size too small');
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  let ecdhSecret: Buffer;
  try {
    ecdhSecret = ua.computeSecret(asPublic);
  } catch {
    throw new WebPushDecryptError('sender public key is not a P-256 point');
  }
  const uaPublic = ua.getPublicKey();
  const prkKey = hmac(authSecret, ecdhSecret);
  const ikm = hmac(
    prkKey,
    Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic, Buffer.from([1])]),
  );
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);

  const out: Buffer[] = [];
  const records = Math.ceil(ciphertext.length / rs);
  if (records === 0) throw new WebPushDecryptError('no records');
  for (let i = 0; i < records; i += 1) {
    const record = ciphertext.subarray(i * rs, Math.min((i + 1) * rs, ciphertext.length));
    if (record.length < 17) throw new WebPushDecryptError('record shorter than its tag');
    const iv = Buffer.from(nonce);
    // The record sequence number is XORed into the end of the nonce (its upper bytes are 0 here).
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ i) >>> 0, 8);
    const decipher = createDecipheriv('aes-128-gcm', cek, iv);
    decipher.setAuthTag(record.subarray(record.length - 16));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    } catch {
      throw new WebPushDecryptError('authentication tag mismatch: encrypted for other keys');
    }
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end -= 1;
    const delimiter = plain[end];
    const last = i === records - 1;
    if (delimiter !== (last ? 2 : 1)) throw new WebPushDecryptError('bad padding delimiter');
    out.push(plain.subarray(0, end));
  }
  return Buffer.concat(out);
}

/** A VAPID `k=` public key (uncompressed P-256 point, base64url) as a KeyObject for ES256 checks. */
export function vapidPublicKey(k: string): KeyObject | undefined {
  const raw = Buffer.from(k, 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) return undefined;
  try {
    return createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: raw.subarray(1, 33).toString('base64url'),
        y: raw.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch {
    return undefined;
  }
}

/** `vapid t=<jwt>, k=<key>` (RFC 8292) into its parts. */
export function parseVapidAuthorization(header: string | undefined): { t: string; k: string } | undefined {
  const match = /^vapid\s+(.+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const params = Object.fromEntries(
    match[1]!.split(',').map((part) => {
      const i = part.indexOf('=');
      return [part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).trim()];
    }),
  );
  return typeof params.t === 'string' && typeof params.k === 'string'
    ? { t: params.t, k: params.k }
    : undefined;
}
