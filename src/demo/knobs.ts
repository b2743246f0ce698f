/**
 * Demo knobs: how each demo retailer should behave on its next run. A small JSON file under the data
 * folder, written by `npm run demo -- break <retailer> <mode>` and read by the demo scraper activity.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const MODES = ['ok', 'fail', 'drop', 'stop'] as const;
export type Mode = (typeof MODES)[number];
export type Knobs = Record<string, Mode>;

export function readKnobs(file: string): Knobs {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Knobs;
  } catch {
    return {}; // a half-written file reads as "all ok" rather than crashing the demo
  }
}

export function setKnob(file: string, retailer: string, mode: Mode): Knobs {
  const knobs = { ...readKnobs(file), [retailer]: mode };
  mkdirSync(dirname(file), { recursive: true });
  // Write-then-rename so a reader never sees half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify(knobs, null, 2));
  renameSync(`${file}.tmp`, file);
  return knobs;
}
