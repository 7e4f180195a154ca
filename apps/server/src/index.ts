export { signUserToken } from './auth/user-token';
export { loadEnv } from './config/env';
export { runMigrations } from './database/data-source';
export { openApiDocument } from './ops/openapi';
export { startServer } from './server';
