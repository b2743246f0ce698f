#!/usr/bin/env node
// `npx ingestion-monitor …` (what alerts tell on-call to paste). Runs the compiled CLI from dist/ with plain
// node (`npm run build`, or the first `npm start`, makes it); a checkout that was never built falls back to
// the TypeScript source through tsx (a devDependency).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const built = join(__dirname, '..', '..', 'dist', 'src', 'cli', 'index.js');
let cli;
if (existsSync(built)) {
  cli = require(built);
} else {
  require('tsx/cjs');
  cli = require('./index.ts');
}
cli.exitQuietlyOnClosedPipe();
cli.main().then((code) => process.exit(code));
