// The configuration contract of DESIGN.md ("Config keys"). Every object is strict: an unknown key
// is an error that names it, so a typo in production fails at start instead of being ignored.
import { z } from 'zod';
import { validate as isValidCron } from 'node-cron';

const port = z.number().int().min(0).max(65535);
const listener = z.strictObject({ host: z.string().min(1), port });
const domain = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'expected a domain name');
const email = z.string().regex(/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/, 'expected an email address');
const cron = z.string().refine((expr) => isValidCron(expr), { message: 'expected a cron expression' });
/** "30s", "5m", "1h", "5d". */
export const durationPattern = /^(\d+)(s|m|h|d)$/;
const duration = z.string().regex(durationPattern, 'expected a duration such as "30s", "5m", "1h" or "5d"');
/** An IANA time zone the runtime knows (node-cron takes any string and fails later). */
const timezone = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return zone.trim() !== '';
    } catch {
      return false;
    }
  },
  { message: 'expected an IANA time zone such as "Europe/Paris"' },
);
/** '' (not set) or an https:// URL: everything leaving the operator goes over TLS (R1). */
const optionalHttpsUrl = z.string().refine(
  (text) => {
    if (text === '') return true;
    try {
      const url = new URL(text);
      return url.protocol === 'https:' && url.hostname !== '';
    } catch {
      return false;
    }
  },
  { message: 'expected an https:// URL, or "" for none' },
);

export const configSchema = z.strictObject({
  hostname: z.string().min(1),
  dataDir: z.string().min(1),
  domains: z.strictObject({
    mssante: z.array(domain).min(1, 'at least one MSSanté domain is required'),
    internal: z.array(domain),
  }),
  listen: z.strictObject({
    smtp: listener,
    submission: listener,
    submissions: listener,
    imap: listener,
    imaps: listener,
    /** The self-service portal and client autoconfig (issue 10); port 0 = off. */
    https: listener,
    /** GET /healthz, /readyz, /metrics over plain HTTP (src/web/admin/); port 0 = off. */
    admin: listener,
  }),
  tls: z.strictObject({
    certFile: z.string(),
    keyFile: z.string(),
    caFile: z.string(),
    requireClientCertificate: z.boolean(),
  }),
  trustSpace: z.strictObject({
    allowlistFile: z.string().min(1),
    /** SHA-256 of the allowlist (`sha256sum` format or a bare digest); '' = not checked. */
    checksumFile: z.string(),
    /** Where to download the allowlist from before each reload; '' = the file is managed by hand. */
    allowlistUrl: optionalHttpsUrl,
    /** Where to download its SHA-256 from (into checksumFile); '' = none. */
    checksumUrl: optionalHttpsUrl,
    patientDomain: domain,
  }),
  limits: z.strictObject({
    maxRecipients: z.number().int().min(1).max(1000),
    maxMessageBytes: z.number().int().min(1024),
    maxConnections: z.number().int().min(1),
    maxConnectionsPerIp: z.number().int().min(1),
    maxConnectionsPerAccount: z.number().int().min(1),
    shutdownGraceSeconds: z.number().min(0).max(600),
    /** Deadlines (issue 15): a command line, from its first octet to its line end, within this. */
    commandSeconds: z.number().min(1).max(3600),
    /** From connection to successful login (IMAP, submission) or first accepted MAIL FROM (MTA). */
    preLoginSeconds: z.number().min(1).max(3600),
    /** Octets per second a message (SMTP DATA, IMAP literal) must keep up, on top of commandSeconds. */
    minDataRate: z.number().int().min(1),
    /** QUOTA (RFC 9208) of each box, all its folders together: octets (STORAGE); 0 = no limit. */
    quotaStorageBytes: z.number().int().min(0),
    /** QUOTA (RFC 9208) of each box: number of messages (MESSAGE); 0 = no limit. */
    quotaMessages: z.number().int().min(0),
  }),
  retention: z.strictObject({
    days: z.number().int().min(1),
    /** Audit rows (and finished job runs) are kept this long. */
    auditDays: z.number().int().min(1),
    /** Finished outbound-queue entries are kept this long. */
    queueDays: z.number().int().min(1),
  }),
  schedules: z.strictObject({ purge: cron, directory: cron, digest: cron, allowlist: cron, timezone }),
  notifications: z.strictObject({
    smtp: z.strictObject({ host: z.string().min(1), port, secure: z.boolean() }),
    from: email,
    /** Receptions within this window after the first one are merged into one notice (R9). */
    mergeWindow: duration,
    /** Waits between attempts at notifications.smtp; the last one repeats until it is sent. */
    retryDelays: z.array(duration).min(1),
  }),
  /** Automatic replies (R8, RFC 3834 section 2): at most one per sender per this many days. */
  autoreply: z.strictObject({ intervalDays: z.number().int().min(1).max(365) }),
  relay: z.strictObject({
    smarthost: z.strictObject({ host: z.string().min(1), port }).nullable(),
    requireTls: z.boolean(),
    certFile: z.string(),
    keyFile: z.string(),
    caFile: z.string(),
    retryDelays: z.array(duration).min(1),
    maxAge: duration,
  }),
  directory: z.strictObject({
    outputDir: z.string(),
    endpoint: optionalHttpsUrl,
    /** Base of the Annuaire Santé FHIR API ("API MSSanté" BAL feed); '' = the FHIR requests go to files only. */
    fhirBase: optionalHttpsUrl,
    /** CA bundle the endpoint's certificate must chain to; '' = the system roots. */
    caFile: z.string(),
    /** Waits between attempts at the endpoint within one run; then the run fails. */
    retryDelays: z.array(duration),
  }),
  /** Self-service portal (R16, R17): session limits and Pro Santé Connect. */
  portal: z.strictObject({
    /** Public https:// base URL (PSC redirect URI, autoconfig links); '' = https://hostname:port. */
    publicUrl: optionalHttpsUrl,
    /** A session unused this long ends. */
    sessionIdle: duration,
    /** A session ends this long after login, however active. */
    sessionMaxAge: duration,
    /** Lifetime of a one-time code mailed to the login address. */
    emailCodeLifetime: duration,
    oidc: z.strictObject({
      issuer: optionalHttpsUrl,
      clientId: z.string(),
      clientSecret: z.string(),
      /** CA bundle the issuer's certificate must chain to; '' = the system roots. */
      caFile: z.string(),
      /** Claim carrying the national id ("8" + RPPS for PSC's SubjectNameID). */
      identityClaim: z.string().min(1),
    }),
  }),
  /** Who may log in to IMAP/submission and how (R16, issues 11 and 15). */
  auth: z.strictObject({
    /** "account": the box password works on IMAP/SMTP (development); "devices": only device passwords and tokens. */
    passwordLogins: z.enum(['account', 'devices']),
    oauth: z
      .strictObject({
        /** Issuer whose access tokens IMAP/SMTP accept; '' = OAUTHBEARER/XOAUTH2 off. */
        issuer: z.string(),
        audience: z.string(),
        /** https:// URL or file path of the issuer's JSON Web Key Set. */
        jwks: z.string(),
        /** Claim carrying the national id: RPPS, or "8" + RPPS. */
        identityClaim: z.string().min(1),
        /** CA bundle the JWKS server's certificate must chain to; '' = the system roots. */
        caFile: z.string(),
      })
      .superRefine((oauth, ctx) => {
        if (oauth.issuer === '') return;
        if (oauth.audience === '') ctx.addIssue({ code: 'custom', path: ['audience'], message: 'required when auth.oauth.issuer is set' });
        if (oauth.jwks === '') ctx.addIssue({ code: 'custom', path: ['jwks'], message: 'required when auth.oauth.issuer is set' });
        if (/^[a-z]+:\/\//i.test(oauth.jwks) && !oauth.jwks.startsWith('https://')) {
          ctx.addIssue({ code: 'custom', path: ['jwks'], message: 'expected an https:// URL or a file path' });
        }
      }),
    /** Login throttling (issue 15): per client address and per (account, address) pair. */
    throttle: z.strictObject({
      window: duration,
      maxFailuresPerAddress: z.number().int().min(1),
      maxFailuresPerPair: z.number().int().min(1),
    }),
  }),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  }),
  /** IMAP front end processes (src/imap/workers.ts): 0 = one per core, 1 = in the main process. */
  imap: z.strictObject({
    workers: z.number().int().min(0).max(64),
  }),
});

export type Config = z.infer<typeof configSchema>;
export type Listener = z.infer<typeof listener>;

/** Milliseconds of a duration string already validated by `durationPattern`. */
export function durationMs(text: string): number {
  const match = durationPattern.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
