import { UseGuards } from '@nestjs/common';
import { IdempotencyGuard } from '../idempotency/idempotency.guard';
import { AdminGuard } from './admin.guard';
import { ApiKeyGuard } from './api-key.guard';

/** Routes for apps' keys: the key (and its quota), then the request's Idempotency-Key. */
export const RequireApiKey = () => UseGuards(ApiKeyGuard, IdempotencyGuard);

/** Operator routes: the admin token, then the request's Idempotency-Key. */
export const RequireAdmin = () => UseGuards(AdminGuard, IdempotencyGuard);
