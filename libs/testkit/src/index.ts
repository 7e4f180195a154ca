export * from './database';
export * from './redis';
export * from './wait';
export * from './clarion-process';
