/**
 * Libraries the workflow context loads once and shares between workflows (the SDK's `preloadModules`, see
 * `workflowPreloadModules` in src/worker.ts). A module of ours rather than the bare names: zod declares
 * `sideEffects: false`, so webpack drops an unused `require('zod')` from the preload hook; re-exporting it
 * keeps the require.
 *
 * The SDK deep-freezes what a preloaded module exports (all of zod, through `z`), so what zod would fill in
 * later on an exported object is filled in here, before the freeze, with the values zod itself would
 * choose: its global config (default locale and memoizer, set when the first schema is made) and its
 * cached `allowsEval` (read when the first object schema is made). test/replay.test.ts and the workflow
 * tests bundle zod's ES build this way, test/dist-build.test.ts its CommonJS build.
 */
import { z } from 'zod';

z.config(z.locales.en());
z.config({ memoizer: z.core.memoizer() });
void z.core.util.allowsEval.value;

export { z };
