export { startFakeSlack } from './fake-slack';
