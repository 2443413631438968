import { InvalidInputError, type CustodianName } from '@keyledger/domain';

/**
 * An engine serves one custodian. A key generated with another name would record a custodian
 * that never held its material, and its destruction evidence could never match.
 */
export function assertServedCustodian(requested: CustodianName | null, served: CustodianName): void {
  if (requested === null || requested === served) return;
  throw new InvalidInputError(`This engine keeps key material in the ${served} custodian, not ${requested}`, { field: 'custodian' });
}
