/**
 * Applies the workflow's start input (thresholds, per-retailer overrides, expected retailers) to a fresh
 * state. A bad option is reported and skipped, never thrown: the monitor must start even if misconfigured.
 */
import type { MonitorState } from '../rules/monitor-state';
import type { MonitorInput } from '../shared/messages';
import { setThresholdsArgsSchema } from '../shared/operator';
import { describeZodError } from '../shared/zod-error';

export function applyStartOptions(state: MonitorState, input: MonitorInput, now: number): string[] {
  const problems: string[] = [];
  const apply = (retailer: string | undefined, thresholds: unknown) => {
    const parsed = setThresholdsArgsSchema.safeParse({ retailer, thresholds });
    if (parsed.success) state.setThresholds(parsed.data.retailer, parsed.data.thresholds, now);
    else problems.push(`${retailer ?? 'defaults'}: ${describeZodError(parsed.error)}`);
  };
  if (input.thresholds) apply(undefined, input.thresholds);
  for (const [retailer, t] of Object.entries(input.retailers ?? {})) apply(retailer, t);
  for (const retailer of input.expectedRetailers ?? []) {
    const parsed = setThresholdsArgsSchema.shape.retailer.safeParse(retailer);
    if (parsed.success && parsed.data) state.register(parsed.data, now);
    else problems.push(`expected retailer ${JSON.stringify(retailer).slice(0, 80)} is not a lower-case slug`);
  }
  return problems;
}
