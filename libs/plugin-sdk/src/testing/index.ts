export * from './bench';
export * from './conformance';
export * from './fake-provider';
export * from './noop-metrics';
export * from './recording-reporter';
export * from './redis-check';
export * from './routable';
export * from './runtime-harness';
