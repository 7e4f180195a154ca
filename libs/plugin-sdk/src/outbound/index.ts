export * from './address';
export * from './agents';
export * from './lookup';
export * from './policy';
export * from './refused-error';
export * from './url';
