#!/usr/bin/env node
// The package runs from TypeScript source through tsx (no build step), so the bin registers tsx's
// CommonJS hook before loading the CLI. `npx ingestion-monitor …` is what alerts tell on-call to paste.
require('tsx/cjs');
const cli = require('./index.ts');
cli.exitQuietlyOnClosedPipe();
cli.main().then((code) => process.exit(code));
