// `mssd jobs run JOB`: every scheduled job can be run by hand, recorded in job_runs like a
// scheduled run; an unknown job is one clear line and exit 1.
import t from 'tap';
import { cli, makeEnv } from '../helpers/daemon';

t.test('every job of the registry runs by hand and is recorded', async (t) => {
  const env = await makeEnv();
  for (const job of ['purge', 'directory', 'allowlist', 'digest']) {
    const run = cli(env, ['jobs', 'run', job, '--json']);
    t.equal(run.status, 0, `${job}: ${run.stderr}`);
    t.match(run.json(), { job, outcome: 'ok', runId: Number });
  }
  const allowlist = cli(env, ['jobs', 'run', 'allowlist', '--json']).json<{ result: { domains: number } }>();
  // 619 Domaine entries name 516 distinct domains (a domain appears once per allowed DN).
  t.equal(allowlist.result.domains, 516, 'the real allowlist was read');
  const runs = cli(env, ['jobs', 'list', '--json']).json<{ runs: Array<{ job: string; outcome: string }> }>();
  t.same(new Set(runs.runs.map((r) => r.job)), new Set(['purge', 'directory', 'allowlist', 'digest']));
  t.ok(runs.runs.every((r) => r.outcome === 'ok'));

  const unknown = cli(env, ['jobs', 'run', 'reindex']);
  t.equal(unknown.status, 1);
  t.equal(unknown.stderr, "mssd: unknown job 'reindex' (one of: purge, directory, allowlist, digest)\n");
});
