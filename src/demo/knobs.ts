/**
 * Demo knobs: how each demo retailer should behave on its next run. A small JSON file under the data
 * folder, written by `npm run demo -- break <retailer> <mode>` and read by the demo scraper activity.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const MODES = ['ok', 'fail', 'drop', 'stop'] as const;
export type Mode = (typeof MODES)[number];
/** Retailer → mode; a Map, because the names come from the user's command line. */
export type Knobs = Map<string, Mode>;

export function readKnobs(file: string): Knobs {
  if (!existsSync(file)) return new Map();
  try {
    return new Map(Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, Mode>));
  } catch {
    return new Map(); // a half-written file reads as "all ok" rather than crashing the demo
  }
}

/** The knobs as the JSON object the file holds. */
export const knobsJson = (knobs: Knobs): string => JSON.stringify(Object.fromEntries(knobs), null, 2);

export function setKnob(file: string, retailer: string, mode: Mode): Knobs {
  const knobs = readKnobs(file).set(retailer, mode);
  mkdirSync(dirname(file), { recursive: true });
  // Write-then-rename so a reader never sees half a file.
  writeFileSync(`${file}.tmp`, knobsJson(knobs));
  renameSync(`${file}.tmp`, file);
  return knobs;
}
