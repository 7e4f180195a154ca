import webpush from 'web-push';

export interface VapidKeyPair {
  /** base64url uncompressed P-256 point: give it to browsers as `applicationServerKey`. */
  publicKey: string;
  /** base64url private scalar: store as a secret. */
  privateKey: string;
}

/** A fresh VAPID key pair, for the core's admin API / CLI to store per app. */
export function generateVapidKeys(): VapidKeyPair {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  return { publicKey, privateKey };
}
