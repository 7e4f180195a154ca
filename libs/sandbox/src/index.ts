export * from './all-fakes';
export * from './behaviors';
export * from './fake';
export * from './messaging';
export * from './push';
export * from './recorder';
export * from './server';
export * from './webhook/webhook-fake';
