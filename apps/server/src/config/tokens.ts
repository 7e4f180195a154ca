/** Injection tokens shared across modules. */
export const ENV = Symbol('ENV');
export const REDIS = Symbol('REDIS');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
