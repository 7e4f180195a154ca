/** The core's own queue for large audiences (a topic, thousands of ids): expanded in chunks by workers. */
export const FANOUT_QUEUE = 'clarion.fanout';
export const FANOUT_CHUNK = 1000;
