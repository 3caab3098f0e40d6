import type { PubSubAdapter } from './adapter.js';

/** The default adapter: nothing leaves the process, rooms are local. */
export const localAdapter: PubSubAdapter = {
  start: () => Promise.resolve(),
  subscribe: () => {},
  unsubscribe: () => {},
  publish: () => {},
  close: () => Promise.resolve(),
};
