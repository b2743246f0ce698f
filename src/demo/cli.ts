/**
 * Demo knobs: `npm run demo -- break <retailer> fail|drop|stop`, `npm run demo -- fix <retailer>`,
 * `npm run demo -- knobs`. Works on the data folder `npm start` uses (MONITOR_DATA_DIR, default .data).
 */
import { join, resolve } from 'node:path';
import { knobsJson, MODES, type Mode, readKnobs, setKnob } from './knobs';
import { DEMO_RETAILERS } from './retailers';

const usage = `usage: npm run demo -- break <retailer> <fail|drop|stop> | fix <retailer> | knobs
retailers: ${[...DEMO_RETAILERS.keys()].join(', ')}`;

function run(argv: string[]): number {
  const file = join(resolve(process.env.MONITOR_DATA_DIR ?? '.data'), 'demo-knobs.json');
  const [cmd, retailer, mode] = argv;
  if (cmd === 'knobs') {
    console.log(knobsJson(readKnobs(file)));
    return 0;
  }
  if ((cmd !== 'break' && cmd !== 'fix') || !retailer || !DEMO_RETAILERS.has(retailer)) {
    console.error(usage);
    return 2;
  }
  const m: Mode = cmd === 'fix' ? 'ok' : (mode as Mode);
  if (!MODES.includes(m) || (cmd === 'break' && m === 'ok')) {
    console.error(usage);
    return 2;
  }
  setKnob(file, retailer, m);
  console.log(cmd === 'fix' ? `${retailer}: back to normal` : `${retailer}: next runs will ${m === 'stop' ? 'not happen (worker stopped)' : m === 'fail' ? 'fail' : 'report half the SKUs'}`);
  return 0;
}

process.exitCode = run(process.argv.slice(2));
