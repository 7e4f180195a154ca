export { default, slackPlugin } from './plugin';
