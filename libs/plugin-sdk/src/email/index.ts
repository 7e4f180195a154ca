export * from './mailbox';
export * from './plain-text';
