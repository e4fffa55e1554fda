import t from 'tap';
import { resolveTargets } from '../../src/delivery/mx';
import { retryDelayMs } from '../../src/delivery/outbound';

const fail = (code: string) => () => Promise.reject(Object.assign(new Error(code), { code }));

t.test('targets: smarthost, MX by preference, implicit MX, null MX, DNS failures', async (t) => {
  t.same(await resolveTargets('chu.mssante.fr', { host: 'relay.local', port: 2525 }, fail('ESERVFAIL')), { ok: true, targets: [{ host: 'relay.local', port: 2525 }] });
  t.same(
    await resolveTargets('chu.mssante.fr', null, async () => [
      { exchange: 'mx2.chu.fr', priority: 20 },
      { exchange: 'mx1.chu.fr.', priority: 10 },
    ]),
    { ok: true, targets: [{ host: 'mx1.chu.fr', port: 25 }, { host: 'mx2.chu.fr', port: 25 }] },
  );
  t.same(await resolveTargets('chu.mssante.fr', null, fail('ENODATA')), { ok: true, targets: [{ host: 'chu.mssante.fr', port: 25 }] });
  t.match(await resolveTargets('chu.mssante.fr', null, async () => [{ exchange: '', priority: 0 }]), { ok: false, permanent: true, reply: /^556 5\.1\.10 / });
  for (const code of ['ENOTFOUND', 'ETIMEOUT', 'ESERVFAIL']) {
    t.match(await resolveTargets('chu.mssante.fr', null, fail(code)), { ok: false, permanent: false, reply: new RegExp(`^451 4\\.4\\.3 .*${code}`) }, code);
  }
});

t.test('retry delays: one per attempt, the last repeats', async (t) => {
  const delays = ['5m', '15m', '1h'];
  t.equal(retryDelayMs(delays, 1), 5 * 60_000);
  t.equal(retryDelayMs(delays, 2), 15 * 60_000);
  t.equal(retryDelayMs(delays, 3), 3_600_000);
  t.equal(retryDelayMs(delays, 9), 3_600_000);
  t.equal(retryDelayMs(['1s'], 0), 1_000);
});
