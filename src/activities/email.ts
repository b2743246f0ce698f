/**
 * Email delivery over SMTP (nodemailer). Same contract as the HTTP channels: a 5xx SMTP reply is permanent
 * and returned as a failed outcome; 4xx replies and connection problems throw a retryable ApplicationFailure.
 * The SMTP URL carries the password, so it and the password are scrubbed from anything we report.
 */
import { createTransport, type Transporter } from 'nodemailer';
import { ApplicationFailure } from '@temporalio/activity';
import type { MonitorConfig } from '../config';
import { formatContextFrom, toEmail, type EmailContent } from '../alerts/format';
import { toGroupedEmail } from '../alerts/grouped-format';
import type { AlertEvent } from '../rules/types';
import { currentAttempt, currentContext, heartbeating } from './http';
import { groupIdempotencyKey } from './webhook';
import type { AlertActivities, DeliveryOutcome } from './types';

export const SMTP_UNAVAILABLE = 'SmtpUnavailable';

/** Errors nodemailer raises before any server reply that no retry can fix (bad credentials config, no recipients). */
const PERMANENT_CODES = new Set(['EAUTH', 'EENVELOPE', 'EMESSAGE']);

function secretsOf(smtpUrl: string): string[] {
  const out = [smtpUrl];
  try {
    const u = new URL(smtpUrl);
    if (u.password) out.push(u.password, decodeURIComponent(u.password));
  } catch {
    // not a URL we can parse: scrubbing the whole string is still done
  }
  return out.filter(Boolean);
}

/** Message-ID local parts must avoid spaces, brackets and '@'. */
const idPart = (s: string) => s.replace(/[^\w.\-/+=]/g, '-');

/** Email delivery of one event or of a group; the activities below and grouped.ts share it. */
export function createEmailDelivery(config: MonitorConfig) {
  const email = config.alerts.email;
  const ctx = formatContextFrom(config);
  // One transporter per delivery object: it parses the URL once and can be reused for every alert.
  const transporter: Transporter | undefined = email
    ? createTransport({
        url: email.smtpUrl,
        // The per-attempt budget applies to SMTP too (nodemailer's defaults wait minutes); query
        // parameters in SMTP_URL still override these.
        connectionTimeout: config.alerts.httpTimeoutMs,
        greetingTimeout: config.alerts.httpTimeoutMs,
        socketTimeout: config.alerts.httpTimeoutMs,
      })
    : undefined;
  const secrets = email ? secretsOf(email.smtpUrl) : [];
  const scrub = (s: string) => secrets.reduce((acc, x) => acc.split(x).join('[redacted]'), s).replace(/\s+/g, ' ').trim().slice(0, 200);

  /** Stable ids: a retried send has the same Message-ID, and every event of an incident threads together. */
  async function send(content: EmailContent, messageId: string, references?: string): Promise<DeliveryOutcome> {
    if (!email || !transporter) return { channel: 'email', status: 'not_configured' };
    try {
      const info = await heartbeating(() =>
        transporter.sendMail({
          from: email.from,
          to: email.to,
          ...content,
          messageId: `<${idPart(messageId)}@ingestion-monitor>`,
          ...(references ? { references: `<${idPart(references)}@ingestion-monitor>` } : {}),
        }),
      );
      const rejected = info.rejected?.length ?? 0;
      return {
        channel: 'email',
        status: 'delivered',
        attempts: currentAttempt(),
        ...(rejected ? { detail: `${rejected} recipient(s) rejected` } : {}),
      };
    } catch (err) {
      const e = err as { responseCode?: unknown; response?: unknown; code?: unknown; message?: unknown };
      const code = typeof e.code === 'string' ? e.code : undefined;
      const replyCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
      const detail =
        replyCode !== undefined
          ? `SMTP ${scrub(typeof e.response === 'string' ? e.response : String(replyCode))}`
          : `SMTP ${code ?? 'error'}: ${scrub(typeof e.message === 'string' ? e.message : '')}`;
      const permanent = replyCode !== undefined ? replyCode >= 500 : code !== undefined && PERMANENT_CODES.has(code);
      if (permanent) {
        currentContext()?.log.warn('Alert delivery failed permanently', { channel: 'email', detail });
        return { channel: 'email', status: 'failed', attempts: currentAttempt(), detail };
      }
      throw ApplicationFailure.create({ type: SMTP_UNAVAILABLE, message: `Email not sent: ${detail}`, nonRetryable: false });
    }
  }

  return {
    async one(event: AlertEvent): Promise<DeliveryOutcome> {
      if (!email || !transporter) return { channel: 'email', status: 'not_configured' };
      if (event.silenced) return { channel: 'email', status: 'silenced' };
      return send(toEmail(event, ctx), event.eventId, event.incidentId);
    },
    /** `events` already filtered of silenced ones and non-empty. */
    async group(events: AlertEvent[]): Promise<DeliveryOutcome> {
      return send(toGroupedEmail(events, ctx), groupIdempotencyKey(events));
    },
  };
}

export function createEmailActivities(config: MonitorConfig): Pick<AlertActivities, 'sendEmailAlert'> {
  const email = createEmailDelivery(config);
  return { sendEmailAlert: (event: AlertEvent) => email.one(event) };
}
