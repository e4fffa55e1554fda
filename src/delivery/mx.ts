// Where the relay sends a domain's mail: relay.smarthost when set, else the domain's MX hosts by
// preference (RFC 5321 section 5.1), the domain itself when it has no MX; a null MX (RFC 7505)
// fails for good at once. Every DNS failure is temporary: a trust-space domain that does not
// resolve today is more likely a DNS incident than a dead operator, and relay.maxAge bounds the
// wait anyway.
import { promises as dns, type MxRecord } from 'node:dns';

const SMTP_PORT = 25;

export interface PeerTarget {
  host: string;
  port: number;
}

export type ResolvedTargets = { ok: true; targets: PeerTarget[] } | { ok: false; permanent: boolean; reply: string };

export type MxResolver = (domain: string) => Promise<MxRecord[]>;

/** Hosts to try for a domain, best first (RFC 5321 section 5.1). */
export async function resolveTargets(domain: string, smarthost: PeerTarget | null, resolveMx: MxResolver = dns.resolveMx): Promise<ResolvedTargets> {
  if (smarthost) return { ok: true, targets: [smarthost] };
  let records: MxRecord[];
  try {
    records = await resolveMx(domain);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // No MX record: the domain itself is the implicit MX (RFC 5321 section 5.1).
    if (code === 'ENODATA') return { ok: true, targets: [{ host: domain, port: SMTP_PORT }] };
    return { ok: false, permanent: false, reply: `451 4.4.3 MX lookup of ${domain} failed (${code ?? String(err)}); will retry` };
  }
  if (records.length === 0) return { ok: true, targets: [{ host: domain, port: SMTP_PORT }] };
  if (records.some((record) => record.exchange === '' || record.exchange === '.')) {
    return { ok: false, permanent: true, reply: `556 5.1.10 ${domain} publishes a null MX (RFC 7505): it accepts no mail` };
  }
  const sorted = [...records].sort((a, b) => a.priority - b.priority);
  return { ok: true, targets: sorted.map((record) => ({ host: record.exchange.replace(/\.$/, ''), port: SMTP_PORT })) };
}
