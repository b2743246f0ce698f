/**
 * `npm run grafana:generate`: write the Grafana provisioning files and dashboard JSON from src/dashboard/.
 * `--check` writes nothing and exits 1 when a committed file differs (for CI or a pre-commit hook).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { renderGrafanaFiles } from '../src/dashboard/provisioning';

const root = resolve(__dirname, '..');
const check = process.argv.includes('--check');
let stale = 0;

for (const [rel, text] of Object.entries(renderGrafanaFiles())) {
  const path = resolve(root, rel);
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) {
    console.log(`unchanged ${rel}`);
    continue;
  }
  if (check) {
    console.error(`out of date: ${rel}`);
    stale++;
    continue;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  console.log(`wrote     ${rel}`);
}

if (stale) {
  console.error(`${stale} file(s) out of date; run npm run grafana:generate`);
  process.exit(1);
}
