/**
 * The pure part of the stale diagnosis (issue 7, defect 11): a queue nobody polls is named as the cause, and
 * the overlap-policy SKIP reason it produces as a side effect is not given as if it were the cause.
 */
import { combineDiagnosis, explainPollers, explainSchedule, POLLER_FRESH_MS, type ScheduleFacts } from '../src/activities/stale-diagnosis';

const NOW = Date.parse('2026-11-27T12:00:00Z');

describe('explainPollers', () => {
  it('is undefined while some worker has polled within two minutes', () => {
    expect(explainPollers('ingestion', [{ lastAccessTime: NOW - 10 * 60_000 }, { lastAccessTime: NOW - 5_000 }], NOW)).toBeUndefined();
  });

  it('names the queue and the newest poll when every poller is older than two minutes', () => {
    const newest = NOW - POLLER_FRESH_MS - 1_000;
    expect(explainPollers('ingestion', [{ lastAccessTime: newest - 60_000 }, { lastAccessTime: newest }], NOW)).toBe(
      `no worker has polled \`ingestion\` since ${new Date(newest).toISOString()}`,
    );
  });

  it('says so when no poller is listed at all', () => {
    expect(explainPollers('ingestion', [], NOW)).toBe('no worker has polled `ingestion` in the last 5 min');
  });
});

describe('explainSchedule with an unpolled queue', () => {
  const facts = (): ScheduleFacts =>
    ({
      scheduleId: 'ingest-spar',
      state: { paused: false, remainingActions: undefined },
      policies: { overlap: 'SKIP' },
      info: {
        nextActionTimes: [new Date(NOW + 60_000), new Date(NOW + 120_000)],
        recentActions: [],
        runningActions: [],
        numActionsSkippedOverlap: 7,
        numActionsMissedCatchupWindow: 0,
      },
    }) as unknown as ScheduleFacts;
  const open = [{ workflowId: 'ingest-spar-1', startedAt: NOW - 30 * 60_000 }];

  it('gives the overlap SKIP reason when workers poll', () => {
    expect(explainSchedule(facts(), open, NOW)).toMatch(/skipped by the overlap policy SKIP while ingest-spar-1 is still open/);
  });

  it('leaves it out when no worker polls, and the poller reason comes first', () => {
    const schedule = explainSchedule(facts(), open, NOW, undefined, undefined, { queueUnpolled: true });
    expect(schedule ?? '').not.toMatch(/overlap policy/);
    const pollers = explainPollers('ingestion', [], NOW);
    const why = combineDiagnosis(pollers, schedule)!;
    expect(why.startsWith('no worker has polled `ingestion`')).toBe(true);
    expect(why).not.toMatch(/overlap/);
  });
});
