export * from './conformance';
export * from './recording-reporter';
