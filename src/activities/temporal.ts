/**
 * Activities that talk to Temporal about the *ingestion* workflows: re-run a retailer (replay), explain a
 * stale retailer from its Schedule, and (reconciler) find runs that closed without reporting.
 * "Not found" is an answer, never an error; connection errors throw and are retried by Temporal.
 */
import { type Client, type ScheduleDescription, ScheduleNotFoundError, ScheduleOverlapPolicy, WorkflowNotFoundError } from '@temporalio/client';
import type { MonitorConfig } from '../config';
import { createReconcilerActivities } from '../reconciler/activities';
import { visibilityString } from '../shared/visibility';
import type { ReconcilerActivities } from '../reconciler/types';
import { createScheduleFactsActivities, describeScheduleIfAny } from './schedule-facts';
import { whoPaused } from './schedule-pause';
import { combineDiagnosis, explainPollers, explainSchedule, type OpenRun } from './stale-diagnosis';
import { pollersOf } from './task-queue-pollers';
import type { StaleDiagnosisRequest, TemporalActivities } from './types';

/** At most this many open runs are described per diagnosis (ALLOW_ALL schedules can pile them up). */
const MAX_OPEN_RUNS = 5;

export function scheduleIdFor(config: MonitorConfig, retailer: string, schedule?: string): string {
  return schedule ?? config.ingestion.scheduleIdTemplate.replace('{retailer}', retailer);
}

export function createTemporalActivities(config: MonitorConfig, client: Client): TemporalActivities & ReconcilerActivities {
  const { workflowType, taskQueue } = config.ingestion;

  /**
   * Open runs the Schedule started. Visibility also sees manual ALLOW_ALL triggers, which the Schedule's
   * own `runningActions` leaves out; `runningActions` covers runs visibility has not caught up with yet.
   */
  async function openRuns(d: ScheduleDescription): Promise<OpenRun[]> {
    const runs = new Map<string, OpenRun>();
    const query = `TemporalScheduledById = ${visibilityString(d.scheduleId)} AND ExecutionStatus = 'Running'`;
    for await (const wf of client.workflow.list({ query, pageSize: MAX_OPEN_RUNS })) {
      if (runs.size >= MAX_OPEN_RUNS) break;
      runs.set(wf.workflowId, { workflowId: wf.workflowId, startedAt: wf.startTime.getTime() });
    }
    for (const { workflow } of d.info.runningActions) {
      if (runs.has(workflow.workflowId) || runs.size >= MAX_OPEN_RUNS) continue;
      try {
        const wf = await client.workflow.getHandle(workflow.workflowId).describe();
        if (wf.status.name === 'RUNNING') runs.set(workflow.workflowId, { workflowId: workflow.workflowId, startedAt: wf.startTime.getTime() });
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err; // closed and gone: not open
      }
    }
    return [...runs.values()].sort((a, b) => a.startedAt - b.startedAt);
  }

  return {
    async triggerIngestion({ retailer, schedule }) {
      const id = scheduleIdFor(config, retailer, schedule);
      try {
        // ALLOW_ALL: a manual re-run must not be skipped because a scheduled run is still open.
        await client.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
        return { how: 'schedule', id, detail: `triggered schedule ${id}` };
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      }
      if (workflowType && taskQueue) {
        const workflowId = `${retailer}-replay-${Date.now()}`;
        await client.workflow.start(workflowType, { taskQueue, workflowId, args: [{ retailer }] });
        return { how: 'workflow', id: workflowId, detail: `no schedule ${id}; started ${workflowType} ${workflowId} on ${taskQueue}` };
      }
      return { how: 'none', detail: `no schedule ${id} and INGESTION_WORKFLOW_TYPE/INGESTION_TASK_QUEUE not set` };
    },

    async diagnoseStale(req: StaleDiagnosisRequest) {
      const now = Date.now();
      // No worker polling the ingestion queue explains everything else (runs never start or never finish).
      const pollers = taskQueue ? explainPollers(taskQueue, await pollersOf(client, taskQueue), now) : undefined;
      const id = scheduleIdFor(config, req.retailer, req.schedule);
      const description = await describeScheduleIfAny(client, id);
      if (!description) return pollers; // no Schedule to look at: nothing more to say than the pollers
      const pause = description.state.paused ? await whoPaused(client, id) : undefined;
      const schedule = explainSchedule(description, await openRuns(description), now, req.typicalDurationMs, pause, { queueUnpolled: pollers !== undefined });
      return combineDiagnosis(pollers, schedule);
    },

    ...createScheduleFactsActivities(client, (retailer, schedule) => scheduleIdFor(config, retailer, schedule)),

    ...createReconcilerActivities({
      client,
      monitor: { workflowId: config.workflowId, taskQueue: config.taskQueue },
      scheduleIdTemplate: config.ingestion.scheduleIdTemplate,
    }),
  };
}
