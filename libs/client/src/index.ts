export {
  type ClarionClient,
  type ClarionClientOptions,
  createClarionClient,
  idempotent,
} from './create-client';
export type { components, operations, paths } from './openapi';
