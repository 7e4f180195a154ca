export { startServer } from './server';
export { loadEnv } from './config/env';
export { runMigrations } from './database/data-source';
export { openApiDocument } from './ops/openapi';
export { signUserToken } from './auth/user-token';
