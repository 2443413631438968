import type { KeyCustodian } from '@keyledger/custody';

/** Runs `work`; if it fails, the freshly generated material is erased so that no orphan remains. */
export const discardOnFailure = async <T>(
  custodian: KeyCustodian,
  materialRef: string,
  work: () => Promise<T>,
): Promise<T> => {
  try {
    return await work();
  } catch (error) {
    await custodian.destroy(materialRef).catch(() => undefined);
    throw error;
  }
};
