export * from './port.js';
export { KEY_CHECK_VALUE_LABEL, keyCheckValue } from './key-check-value.js';
export { MIN_RECIPIENT_RSA_BITS, parseRecipientPublicKey } from './recipient-key.js';
export { MaterialCache, NO_MATERIAL_CACHE, type MaterialCacheOptions } from './material-cache.js';
export { reencryptThroughMemory } from './reencrypt.js';
export { assertMayWrap, type MaterialOwner } from './tenancy.js';
export { openAesGcm, sealAesGcm } from './software/aes-gcm.js';
export { SqliteMaterialStore, type MaterialRow, type MaterialStore } from './software/material-store.js';
export {
  MATERIAL_DB_FILE,
  ROOT_KEY_FILE,
  SoftwareCustodian,
  type SoftwareCustodianOptions,
} from './software/software-custodian.js';
