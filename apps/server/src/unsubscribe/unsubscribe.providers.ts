import type { Provider } from '@nestjs/common';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { PreferenceCentreTokens } from './preference-centre-token';
import { UnsubscribeTokens } from './unsubscribe-token';

/** Both roles: the API serves the pages, and planning (request path or fan-out worker) signs links into messages. */
export const unsubscribeProviders: Provider[] = [
  {
    provide: UnsubscribeTokens,
    useFactory: (env: Env) => new UnsubscribeTokens(env.CLARION_ENCRYPTION_KEY),
    inject: [ENV],
  },
  {
    provide: PreferenceCentreTokens,
    useFactory: (env: Env) => new PreferenceCentreTokens(env.CLARION_ENCRYPTION_KEY),
    inject: [ENV],
  },
];
