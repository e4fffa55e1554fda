// The portal's second factors (R16): a TOTP code (RFC 6238, otplib: 30-second steps, 6 digits,
// SHA-1 — what every authenticator app reads from an otpauth:// URI) or a one-time code mailed to
// the login address through the notifications relay (as the seeds' "code OTP" does).
//
// Decisions:
// - A TOTP code is accepted one step either side of now (clock drift of a phone), and never twice:
//   the last accepted step is stored (RFC 6238 section 5.2).
// - Wrong codes are throttled per account: 5 in 15 minutes, then every code is refused until the
//   oldest failure leaves the window (the same window as password throttling). Counters live in
//   memory, like the password ones.
// - A mailed code: 6 digits, valid `portal.emailCodeLifetime`, 5 tries, a new one at most every
//   60 seconds; only its SHA-256 is stored, in the session row.
import { createHash, randomInt } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { generateSecret, generateURI, verify } from 'otplib';
import type { Config } from '../../config/schema';
import type { Db } from '../../store/database';
import { findTotpEnrolment, saveTotpEnrolment, useTotpStep } from '../../store/second-factors';

export const TOTP_ISSUER = 'MSSanté';
export const MAX_CODE_FAILURES = 5;
export const CODE_WINDOW_MS = 15 * 60_000;
export const EMAIL_CODE_RESEND_MS = 60_000;

/** Wrong second-factor codes per account in a sliding window. */
export class CodeThrottle {
  private readonly failures = new Map<number, number[]>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly max = MAX_CODE_FAILURES,
    private readonly windowMs = CODE_WINDOW_MS,
  ) {}

  private recent(accountId: number): number[] {
    const from = this.now() - this.windowMs;
    const times = (this.failures.get(accountId) ?? []).filter((at) => at > from);
    if (times.length === 0) this.failures.delete(accountId);
    else this.failures.set(accountId, times);
    return times;
  }

  /** Milliseconds before this account may try a code again; 0 = now. */
  blockedFor(accountId: number): number {
    const times = this.recent(accountId);
    if (times.length < this.max) return 0;
    return Math.max(1, times[times.length - this.max] + this.windowMs - this.now());
  }

  fail(accountId: number): void {
    const times = this.recent(accountId);
    times.push(this.now());
    this.failures.set(accountId, times.slice(-this.max));
    if (this.failures.size > 100_000) this.failures.delete(this.failures.keys().next().value as number);
  }

  clear(accountId: number): void {
    this.failures.delete(accountId);
  }
}

export function isCodeShaped(code: string): boolean {
  return /^\d{6}$/.test(code);
}

/** Digits only: "123 456" and "123-456" as typed from a phone or a mail. */
export function normaliseCode(raw: unknown): string {
  return typeof raw === 'string' ? raw.replace(/[\s-]/g, '') : '';
}

export function newTotpSecret(): string {
  return generateSecret();
}

export function totpUri(login: string, secret: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label: login, secret });
}

/** Checks a code against a secret; the matching time step, or null. */
export async function matchTotp(secret: string, code: string, afterTimeStep = 0): Promise<number | null> {
  if (!isCodeShaped(code)) return null;
  try {
    const result = await verify({ secret, token: code, epochTolerance: 30, afterTimeStep });
    // TOTP results carry the matched RFC 6238 time step (HOTP ones do not; we only ask TOTP).
    return result.valid && 'timeStep' in result ? (result.timeStep as number) : null;
  } catch {
    return null;
  }
}

/** A login code against the account's enrolment; the step is recorded so it cannot be replayed. */
export async function checkEnrolledTotp(db: Db, accountId: number, code: string): Promise<boolean> {
  const enrolment = findTotpEnrolment(db, accountId);
  if (!enrolment) return false;
  const step = await matchTotp(enrolment.secret, code, enrolment.lastStep);
  return step !== null && useTotpStep(db, accountId, step);
}

/** Finishes an enrolment: the first code from the app proves it holds the secret. */
export async function confirmEnrolment(db: Db, accountId: number, secret: string, code: string, now = Date.now()): Promise<boolean> {
  const step = await matchTotp(secret, code);
  if (step === null) return false;
  saveTotpEnrolment(db, accountId, secret, step, now);
  return true;
}

export function newEmailCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

export function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

/** Sends one-time codes through notifications.smtp, as the reception notices go. */
export class EmailCodeSender {
  private readonly transport: Transporter;

  constructor(private readonly config: Config) {
    const smtp = config.notifications.smtp;
    this.transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      name: config.hostname,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      tls: { minVersion: 'TLSv1.2' },
      logger: false,
    });
  }

  async send(to: string, code: string, lifetimeMinutes: number): Promise<void> {
    await this.transport.sendMail({
      from: this.config.notifications.from,
      to,
      subject: 'Votre code de connexion à la messagerie sécurisée de santé',
      text:
        `Bonjour,\n\nVotre code à usage unique est : ${code}\n\n` +
        `Il est valable ${lifetimeMinutes} minutes. Si vous n'êtes pas à l'origine de cette demande, ` +
        `ne communiquez ce code à personne et changez votre mot de passe.\n`,
      headers: { 'Auto-Submitted': 'auto-generated' },
    });
  }

  close(): void {
    this.transport.close();
  }
}
