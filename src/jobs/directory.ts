// The nightly national publication (R13, `schedules.directory`): publishDirectory with the HTTPS
// endpoint first (when `directory.endpoint` is set) and the files last — see the ordering note in
// src/directory/publish.ts. `mssd directory publish` uses the same senders through the same runner.
import type { Config } from '../config/schema';
import { durationMs } from '../config/schema';
import { httpsSender } from '../directory/https-sender';
import type { FhirFeedOptions } from '../directory/fhir-publish';
import { fileSender, publishDirectory, type PublicationResult, type PublicationSender } from '../directory/publish';
import { relayTlsOptions } from '../tls/server-options';
import { serviceTrust, type HttpsTrust } from '../util/https-client';
import type { Logger } from '../util/log';
import type { Job } from './job';
import type { JobServices } from './services';

/**
 * Trust for the national endpoint: `directory.caFile`, else the system roots (plus the development
 * CA on development certificates). The operator's client certificate (`relay.certFile`) is
 * presented when the endpoint asks for one, as between MSSanté operators.
 */
export function endpointTrust(config: Config): HttpsTrust {
  const trust = serviceTrust(config, 'directory.caFile', config.directory.caFile);
  if (!config.relay.certFile) return trust;
  const { cert, key } = relayTlsOptions(config);
  return { ...trust, cert, key };
}

/** The senders of a publication, in the order they must run. */
export function publicationSenders(config: Config, options: { log: Logger; signal?: AbortSignal }): PublicationSender[] {
  const senders: PublicationSender[] = [];
  if (config.directory.endpoint) {
    senders.push(
      httpsSender({
        endpoint: config.directory.endpoint,
        operator: config.hostname,
        trust: endpointTrust(config),
        retryDelays: config.directory.retryDelays.map(durationMs),
        signal: options.signal,
        onAttemptFailed: (attempt, reason, nextDelayMs) =>
          options.log.warn(
            { endpoint: config.directory.endpoint, attempt, reason, retryInMs: nextDelayMs },
            nextDelayMs === null ? 'publication endpoint did not accept the diff' : 'publication endpoint did not accept the diff; retrying',
          ),
      }),
    );
  }
  senders.push(fileSender(config.directory.outputDir));
  return senders;
}

/** The FHIR feed of each publication: files always, `directory.fhirBase` when set (mutual TLS). */
export function fhirFeedOptions(config: Config, options: { log: Logger; signal?: AbortSignal }): FhirFeedOptions {
  return {
    outputDir: config.directory.outputDir,
    fhirBase: config.directory.fhirBase,
    operator: config.hostname,
    trust: config.directory.fhirBase ? endpointTrust(config) : undefined,
    retryDelays: config.directory.retryDelays.map(durationMs),
    signal: options.signal,
    onAttemptFailed: (request, attempt, reason, nextDelayMs) =>
      options.log.warn(
        { fhirBase: config.directory.fhirBase, request, attempt, reason, retryInMs: nextDelayMs },
        nextDelayMs === null ? 'FHIR directory request not accepted; the box waits for the next run' : 'FHIR directory request not accepted; retrying',
      ),
  };
}

export function publicationCounts(result: PublicationResult): Record<string, unknown> {
  return {
    entries: result.entries,
    created: result.created,
    updated: result.updated,
    removed: result.removed,
    since: result.since,
    written: result.written,
    ...(result.fhir
      ? { fhir: { requests: result.fhir.requests, accepted: result.fhir.accepted, failed: result.fhir.failed.length } }
      : {}),
  };
}

export function directoryJob(services: JobServices): Job<PublicationResult> {
  return {
    name: 'directory',
    schedule: services.config.schedules.directory,
    run: (ctx) =>
      publishDirectory(services.db, {
        now: ctx.now,
        dryRun: false,
        senders: publicationSenders(services.config, { log: ctx.log, signal: ctx.signal }),
        fhir: fhirFeedOptions(services.config, { log: ctx.log, signal: ctx.signal }),
      }),
    counts: publicationCounts,
  };
}
