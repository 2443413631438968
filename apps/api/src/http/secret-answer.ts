import { SetMetadata } from '@nestjs/common';

export const SECRET_ANSWER = 'keyledger:secret-answer';

/**
 * Marks a route whose request or answer carries key material or plaintext (data keys, encrypt,
 * decrypt, rewrap). Such answers are never stored, so `Idempotency-Key` is not recorded for it:
 * each call runs (and is recorded as a use). These calls are safe to retry as they are.
 */
export const SecretAnswer = () => SetMetadata(SECRET_ANSWER, true);
