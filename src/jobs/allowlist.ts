// Trust-space allowlist refresh (R1, `schedules.allowlist`, and SIGHUP): when
// `trustSpace.allowlistUrl` is set, download the list (and its SHA-256 from
// `trustSpace.checksumUrl`) beside `trustSpace.allowlistFile`, check it (checksum, strict parse),
// and only then rename it into place; then the daemon re-reads the file. On any error the previous
// file and the list in memory stay as they were, and the run says why. The MTA and the router ask
// for the current list on every transaction, so a new list applies without a restart.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema';
import { loadTrustSpaceFile, type TrustSpace } from '../policy/trustspace';
import { describeHttpsError, httpsRequest, serviceTrust, type HttpsTrust } from '../util/https-client';
import { fsyncDirectory, writeFileFlushed } from '../util/write-file-atomic';
import type { Job } from './job';
import type { AllowlistReload, JobServices } from './services';

/** Reads the configured allowlist, checked against `trustSpace.checksumFile` when one is set. */
export function loadAllowlist(config: Config): TrustSpace {
  return loadTrustSpaceFile(config.trustSpace.allowlistFile, config.trustSpace.checksumFile || undefined);
}

export class AllowlistDownloadError extends Error {
  override name = 'AllowlistDownloadError';
}

async function download(url: string, trust: HttpsTrust, signal?: AbortSignal): Promise<Buffer> {
  let response;
  try {
    response = await httpsRequest({ url, trust, signal, timeoutMs: 60_000, maxBytes: 32 * 1024 * 1024 });
  } catch (err) {
    throw new AllowlistDownloadError(`cannot download ${url}: ${describeHttpsError(err)}`);
  }
  if (response.status !== 200) throw new AllowlistDownloadError(`cannot download ${url}: HTTP ${response.status}`);
  return response.body;
}

export interface DownloadReport {
  url: string;
  bytes: number;
  sha256: string;
  domains: number;
}

/**
 * Downloads the allowlist (and checksum) into a private directory next to the target files, under
 * the same names — so a `sha256sum` line naming the file still matches — verifies them exactly as
 * the daemon will load them, then renames them into place (checksum first, list last). The
 * previous files are untouched unless everything succeeded.
 */
export async function downloadAllowlist(config: Config, options: { trust?: HttpsTrust; signal?: AbortSignal } = {}): Promise<DownloadReport> {
  const { allowlistUrl, checksumUrl, allowlistFile, checksumFile } = config.trustSpace;
  if (!allowlistUrl) throw new Error('trustSpace.allowlistUrl is not set');
  const trust = options.trust ?? serviceTrust(config, 'tls.caFile', '');
  const list = await download(allowlistUrl, trust, options.signal);
  const checksum = checksumUrl ? await download(checksumUrl, trust, options.signal) : null;

  const dir = path.dirname(allowlistFile);
  const staging = path.join(dir, `.allowlist-download-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging, { mode: 0o700 });
  try {
    const stagedList = path.join(staging, path.basename(allowlistFile));
    writeFileFlushed(stagedList, list, 0o644);
    let stagedChecksum: string | undefined;
    if (checksum) {
      // The checksum file may live in another directory; it is staged here under its own name and
      // moved there after the checks (same file system assumed; a copy is not atomic).
      stagedChecksum = path.join(staging, `${path.basename(checksumFile)}${path.basename(checksumFile) === path.basename(allowlistFile) ? '.sha256' : ''}`);
      writeFileFlushed(stagedChecksum, checksum, 0o644);
    }
    // Same checks as the daemon's load: a checksum that does not match, or a list that does not
    // parse strictly, throws here and nothing is replaced.
    const parsed = loadTrustSpaceFile(stagedList, stagedChecksum ?? (checksumFile || undefined));
    if (stagedChecksum) renameSync(stagedChecksum, checksumFile);
    renameSync(stagedList, allowlistFile);
    fsyncDirectory(dir);
    if (stagedChecksum && path.dirname(checksumFile) !== dir) fsyncDirectory(path.dirname(checksumFile));
    return { url: allowlistUrl, bytes: list.length, sha256: createHash('sha256').update(list).digest('hex'), domains: parsed.domainCount };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

export interface AllowlistRefresh {
  download: DownloadReport | null;
  reload: AllowlistReload | null;
}

export function allowlistJob(services: JobServices): Job<AllowlistRefresh> {
  const { config } = services;
  return {
    name: 'allowlist',
    schedule: config.schedules.allowlist,
    async run(ctx) {
      let downloaded: DownloadReport | null = null;
      let downloadError: Error | null = null;
      if (config.trustSpace.allowlistUrl) {
        try {
          downloaded = await downloadAllowlist(config, { signal: ctx.signal });
          ctx.log.info({ url: downloaded.url, bytes: downloaded.bytes, sha256: downloaded.sha256 }, 'allowlist downloaded and verified');
        } catch (err) {
          downloadError = err as Error;
          ctx.log.error({ err: downloadError.message }, 'allowlist download refused; the previous file stays in place');
        }
      }
      // The file is re-read even when the download failed: an operator may have replaced it.
      let reload: AllowlistReload | null = null;
      if (services.reloadTrustSpace) {
        reload = services.reloadTrustSpace();
      } else {
        const list = loadAllowlist(config);
        reload = { domains: list.domainCount, dns: list.dnCount, counts: list.diff(list).counts };
      }
      ctx.progress({ domains: reload.domains, dns: reload.dns, ...reload.counts });
      if (downloadError) throw downloadError;
      return { download: downloaded, reload };
    },
    counts: (refresh) => ({
      downloaded: refresh.download !== null,
      domains: refresh.reload?.domains,
      dns: refresh.reload?.dns,
      ...refresh.reload?.counts,
    }),
  };
}
