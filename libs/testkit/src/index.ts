export * from './clarion-process';
export * from './database';
export * from './redis';
export * from './wait';
