export * from './envelope.js';
export * from './key-uses.js';
export * from './data-keys.js';
export * from './encrypt.js';
export * from './decrypt.js';
export * from './rewrap.js';
