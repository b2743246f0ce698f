#!/usr/bin/env node
/**
 * Run before `npm start`, `npm run worker`, `npm run cli` …: they run dist/ with plain node, so dist/ is
 * built first (`npm run build`) when it is missing or older than any source (src/, migrations/, the build
 * script, tsconfig*.json, package*.json). A fresh clone builds once, on its first `npm start`. Progress goes
 * to stderr, so `npm run cli -- status --json` still prints JSON only. Plain JavaScript: nothing is built yet.
 */
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const STAMP = join(ROOT, 'dist', 'build-info.json');
const SOURCES = ['src', 'migrations', 'scripts/bundle-workflows.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

/** Newest modification time (ms) under `path`; 0 when it does not exist. */
function newest(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
  return max;
}

/** Why dist/ must be built, or undefined when it is up to date. */
function staleness() {
  if (!existsSync(STAMP)) return 'dist/ has not been built yet';
  const built = statSync(STAMP).mtimeMs;
  const changed = SOURCES.find((s) => newest(join(ROOT, s)) > built);
  return changed ? `${changed} changed since the last build` : undefined;
}

const why = staleness();
if (why) {
  process.stderr.write(`building dist/ (${why}) …\n`);
  const started = Date.now();
  const npm = process.env.npm_execpath;
  const r = npm
    ? spawnSync(process.execPath, [npm, 'run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] })
    : spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) {
    process.stderr.write(`npm run build failed (${r.error ? r.error.message : `exit code ${r.status}`}); fix it and run it again\n`);
    process.exit(1);
  }
  process.stderr.write(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
