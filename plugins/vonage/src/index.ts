export { default, vonagePlugin } from './plugin';
export { vonageAppConfig, vonageConfig, type VonageAppConfig, type VonageConfig } from './config';
export { classifyVonageStatus } from './classify';
