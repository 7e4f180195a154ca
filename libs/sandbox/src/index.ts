export * from './recorder';
export * from './behaviors';
export * from './fake';
export * from './server';
export * from './all-fakes';
export * from './webhook/webhook-fake';
export * from './push';
export * from './messaging';
