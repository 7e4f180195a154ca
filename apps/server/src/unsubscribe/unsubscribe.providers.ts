import type { Provider } from '@nestjs/common';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { UnsubscribeTokens } from './unsubscribe-token';

export const unsubscribeProviders: Provider[] = [
  {
    provide: UnsubscribeTokens,
    useFactory: (env: Env) => new UnsubscribeTokens(env.CLARION_ENCRYPTION_KEY),
    inject: [ENV],
  },
];
