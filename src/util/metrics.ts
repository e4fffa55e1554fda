// What the protocol front ends, the authenticator and the scheduler report for the operator's
// graphs (GET /metrics on listen.admin). They see this small typed interface only; the daemon
// passes the Prometheus implementation (src/web/admin/metrics.ts), tests and the CLI the no-op.
//
// Labels are bounded sets (listener names, outcomes, command names, job names): never a person's
// address, a login or a peer address.

/** SMTP listeners as labelled in mssd_smtp_messages_total. */
export type SmtpListenerName = 'mta' | 'submission' | 'submissions';

/** What became of a message offered after DATA (or refused before it). */
export type SmtpOutcome = 'delivered' | 'refused' | 'failed';

export interface Metrics {
  /** A message transaction ended; `dataSeconds` from the start of DATA to the reply, when DATA ran. */
  smtpMessage(listener: SmtpListenerName, outcome: SmtpOutcome, dataSeconds?: number): void;
  /** A connection refused before its greeting (limits.maxConnections…, per address). */
  connectionRefused(listener: string): void;
  /** One login decided by the authenticator: outcome 'ok' or the failure reason. */
  login(protocol: string, outcome: string): void;
  /** An IMAP connection opened (+1) or closed (-1). */
  imapConnection(delta: 1 | -1): void;
  /** One IMAP command finished: its name (or 'UNKNOWN'), its status (OK/NO/BAD) and duration. */
  imapCommand(name: string, status: string, seconds: number): void;
  /** One job run finished (or was skipped). */
  jobRun(job: string, outcome: string, seconds: number): void;
}

const nothing = () => undefined;

/** Metrics that go nowhere (CLI, unit tests). */
export const noMetrics: Metrics = {
  smtpMessage: nothing,
  connectionRefused: nothing,
  login: nothing,
  imapConnection: nothing,
  imapCommand: nothing,
  jobRun: nothing,
};
