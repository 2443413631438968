export * from './port.js';
export { KEY_CHECK_VALUE_LABEL, keyCheckValue } from './key-check-value.js';
export { MIN_RECIPIENT_RSA_BITS, parseRecipientPublicKey } from './recipient-key.js';
export {
  MATERIAL_DB_FILE,
  ROOT_KEY_FILE,
  SoftwareCustodian,
  type SoftwareCustodianOptions,
} from './software/software-custodian.js';
