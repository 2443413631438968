export { Pkcs11Custodian, STORAGE_ROOT_ID, type Pkcs11CustodianOptions } from './pkcs11-custodian.js';
export { readPinFile } from './pin-file.js';
