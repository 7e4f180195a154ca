export * from './clarion-process';
export * from './database';
export * from './free-port';
export * from './image-node';
export * from './jobs';
export * from './own-postgres';
export * from './redis';
export * from './wait';
