import { secret } from '@clarion/plugin-sdk';
import { z } from 'zod';

export const FCM_BASE_URL = 'https://fcm.googleapis.com';

export const fcmConfig = z.object({
  /** The Firebase service account key file (JSON), as downloaded from the console. */
  serviceAccountJson: secret().optional(),
  /** Firebase project id; defaults to the service account's `project_id`. */
  projectId: z.string().min(1).optional(),
  /** FCM HTTP v1 origin. Only tests and the sandbox change it. */
  baseUrl: z.url().default(FCM_BASE_URL),
  /** OAuth token endpoint; default Google's (https://oauth2.googleapis.com/token). */
  tokenUrl: z.url().optional(),
  /** Extra CA certificate (PEM) to trust: the sandbox's self-signed one. */
  caPem: z.string().min(1).optional(),
  timeoutMs: z.coerce.number().int().positive().default(10_000),
  /** HTTP/2 connections to FCM; each carries up to 100 concurrent streams. */
  connections: z.coerce.number().int().positive().max(64).default(2),
  /**
   * Messages a minute each Firebase project may be sent, paced per worker process: with several
   * worker processes, give each its share. FCM's default quota is 600,000 a minute per project.
   */
  quotaPerMinute: z.coerce.number().int().positive().default(600_000),
});

/** Per-app settings: the app's own Firebase project. */
export const fcmAppConfig = z.object({
  serviceAccountJson: z.string().min(1).optional(),
  projectId: z.string().min(1).optional(),
  /** This app's project quota (messages a minute), when Google raised it above the plugin's setting. */
  quotaPerMinute: z.coerce.number().int().positive().optional(),
});

export type FcmConfig = z.infer<typeof fcmConfig>;
export type FcmAppConfig = z.infer<typeof fcmAppConfig>;

/** What Clarion needs from a service account key file. */
export const serviceAccount = z.object({
  project_id: z.string().min(1),
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  private_key_id: z.string().optional(),
});
export type ServiceAccount = z.infer<typeof serviceAccount>;
