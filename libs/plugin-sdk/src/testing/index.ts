export * from './bench';
export * from './conformance';
export * from './recording-reporter';
export * from './runtime-harness';
