/**
 * Modules the workflow context loads once and shares between workflows (the SDK's `preloadModules`, see
 * `workflowPreloadModules` in src/worker.ts), instead of evaluating them again for every workflow it
 * creates: zod, and our modules that build zod schemas (with what they import: thresholds, baseline
 * settings, maintenance windows, rule names). Those schemas were most of a cached monitor's heap, and
 * building them again was part of every replay of an evicted monitor (docs/benchmarks.md, "Round 6").
 *
 * What makes a module safe to share: no state of its own but memos of pure functions (the timezone
 * formatter caches), and no zod schema among its exports. The SDK deep-freezes what a preloaded module
 * exports, and a zod schema adds its methods and derived values to itself on first use, which a frozen
 * schema refuses; so these modules export their schemas through functions (`runReportSchema()`), whose
 * closures the freeze does not reach. test/preloaded.test.ts follows the preload's imports and checks that
 * none of them is a workflow module or imports Temporal, and that none exports a schema.
 *
 * Re-exports rather than bare imports: zod declares `sideEffects: false`, so webpack drops an unused
 * `require('zod')` from the preload hook. zod comes first, configured (./zod-config.ts), before any of our
 * modules builds a schema. test/replay.test.ts and the workflow tests bundle zod's ES build this way,
 * test/dist-build.test.ts its CommonJS build.
 */
export { z } from './zod-config';
export { slugSchema } from '../shared/operator';
export { runReportSchema } from '../shared/report';
