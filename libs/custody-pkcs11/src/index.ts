export { Pkcs11Custodian, STORAGE_ROOT_ID, type Pkcs11CustodianOptions } from './pkcs11-custodian.js';
export { readPinFile } from './pin-file.js';
export {
  AUDIT_SIGNING_KEY_LABEL,
  EddsaUnsupportedError,
  Pkcs11CheckpointSigner,
  type Pkcs11CheckpointSignerOptions,
} from './pkcs11-checkpoint-signer.js';
