/** Stream names. Lifecycle and use events live apart so that uses never conflict with commands. */
export const keyStream = (keyId: string): string => `key-${keyId}`;
export const keyUsageStream = (keyId: string): string => `key-usage-${keyId}`;
export const PRINCIPALS_STREAM = 'principals';
export const RECIPIENTS_STREAM = 'recipients';
export const ACCESS_DENIALS_STREAM = 'access-denials';

export const isKeyStream = (streamId: string): boolean =>
  streamId.startsWith('key-') && !streamId.startsWith('key-usage-');
