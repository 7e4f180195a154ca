import type { Provider } from '@nestjs/common';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { PreferenceCentreTokens } from './preference-centre-token';

export const preferenceCentreProviders: Provider[] = [
  {
    provide: PreferenceCentreTokens,
    useFactory: (env: Env) => new PreferenceCentreTokens(env.CLARION_ENCRYPTION_KEY),
    inject: [ENV],
  },
];
