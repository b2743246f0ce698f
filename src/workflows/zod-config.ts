/**
 * zod for the workflow context, configured before the SDK deep-freezes it (src/workflows/preloaded.ts):
 * what zod would fill in later on an exported object is filled in here, with the values zod itself would
 * choose: its global config (default locale and memoizer, set when the first schema is made) and its
 * cached `allowsEval` (read when the first object schema is made).
 */
import { z } from 'zod';

z.config(z.locales.en());
z.config({ memoizer: z.core.memoizer() });
void z.core.util.allowsEval.value;

export { z };
