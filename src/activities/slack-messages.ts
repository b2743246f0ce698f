/**
 * Slack bot mode remembers, per incident, the message it posted (channel id and `ts`) and the last alert
 * event applied to it, in Postgres (`slack_messages`, migration 011). Kept here rather than in the fleet
 * workflow's state so the workflow's commands and inputs stay as they were (no patch, nothing to carry
 * through continue-as-new) and a restarted worker still finds the message.
 *
 * Crash window: the row is written right after Slack answers. A worker that dies between Slack's answer and
 * the write (milliseconds) leaves no row, so the retried activity posts a second message (or a second thread
 * reply); later updates go to the message it recorded. Nothing is lost, at worst one duplicate per crash.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema';

export interface SlackMessageRef {
  incidentId: string;
  channel: string;
  ts: string;
  /** The message names several incidents (a grouped fire): replied to in its thread, never rewritten. */
  grouped: boolean;
  /** The last alert event applied to this message (posted, updated or replied). */
  lastEventId?: string;
}

export interface SlackMessageStore {
  get(incidentIds: string[]): Promise<Map<string, SlackMessageRef>>;
  /** Remember the message of each incident (replacing an older one) with the event just applied. */
  put(refs: SlackMessageRef[]): Promise<void>;
  /** Record that each event has been applied to the message of its incident (one statement). */
  applied(events: Array<{ incidentId: string; eventId: string }>): Promise<void>;
}

export function createSlackMessageStore(db: Kysely<Database>): SlackMessageStore {
  return {
    async get(incidentIds) {
      const out = new Map<string, SlackMessageRef>();
      if (incidentIds.length === 0) return out;
      const rows = await db.selectFrom('slack_messages').selectAll().where('incident_id', 'in', incidentIds).execute();
      for (const r of rows) {
        out.set(r.incident_id, { incidentId: r.incident_id, channel: r.channel, ts: r.ts, grouped: r.grouped, ...(r.last_event_id ? { lastEventId: r.last_event_id } : {}) });
      }
      return out;
    },
    async put(refs) {
      if (refs.length === 0) return;
      await db
        .insertInto('slack_messages')
        .values(refs.map((r) => ({ incident_id: r.incidentId, channel: r.channel, ts: r.ts, grouped: r.grouped, last_event_id: r.lastEventId ?? null })))
        .onConflict((oc) =>
          oc.column('incident_id').doUpdateSet((eb) => ({
            channel: eb.ref('excluded.channel'),
            ts: eb.ref('excluded.ts'),
            grouped: eb.ref('excluded.grouped'),
            last_event_id: eb.ref('excluded.last_event_id'),
            updated_at: new Date(),
          })),
        )
        .execute();
    },
    async applied(events) {
      if (events.length === 0) return;
      await sql`UPDATE slack_messages m SET last_event_id = v.event_id, updated_at = now()
        FROM (SELECT unnest(${events.map((e) => e.incidentId)}::text[]) AS incident_id, unnest(${events.map((e) => e.eventId)}::text[]) AS event_id) v
        WHERE m.incident_id = v.incident_id`.execute(db);
    },
  };
}
