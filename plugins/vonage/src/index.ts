export * from './callbacks';
export { classifyVonageStatus } from './classify';
export { type VonageAppConfig, type VonageConfig, vonageAppConfig, vonageConfig } from './config';
export { default, vonagePlugin } from './plugin';
