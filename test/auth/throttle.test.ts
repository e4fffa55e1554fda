// Login throttling (issue 15): slots reserved before the check, limits per address and per
// (account, address) pair, progressive delay, no account-wide lockout.
import t from 'tap';
import { LoginThrottle, type LoginSlot } from '../../src/auth/throttle';

async function slot(throttle: LoginThrottle, account: string, address: string): Promise<LoginSlot> {
  const admission = await throttle.admit(account, address);
  if (!admission.ok) throw new Error(`refused ${account} from ${address}`);
  return admission.slot;
}

t.test('parallel attempts: at most the pair limit reach a check (finding 1)', async (t) => {
  const throttle = new LoginThrottle({ maxFailuresPerPair: 5, maxFailuresPerAddress: 30 });
  let checked = 0;
  const outcomes = await Promise.all(
    Array.from({ length: 30 }, async () => {
      const admission = await throttle.admit('#1', '203.0.113.7');
      if (!admission.ok) return 'throttled';
      checked++;
      await new Promise((resolve) => setTimeout(resolve, 5)); // the password check
      admission.slot.failed();
      return 'failed';
    }),
  );
  t.equal(checked, 5, 'five checks, not thirty');
  t.equal(outcomes.filter((o) => o === 'throttled').length, 25);
});

t.test('parallel attempts from one address on many accounts: at most the address limit', async (t) => {
  const throttle = new LoginThrottle({ maxFailuresPerPair: 5, maxFailuresPerAddress: 12 });
  let checked = 0;
  await Promise.all(
    Array.from({ length: 40 }, async (_, i) => {
      const admission = await throttle.admit(`user${i}`, '203.0.113.8');
      if (!admission.ok) return;
      checked++;
      await new Promise((resolve) => setTimeout(resolve, 2));
      admission.slot.failed();
    }),
  );
  t.equal(checked, 12);
});

t.test('parallel right passwords (a client opening several connections) all get through', async (t) => {
  const throttle = new LoginThrottle({ maxFailuresPerPair: 3 });
  let admitted = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      const s = await slot(throttle, '#2', '198.51.100.1');
      admitted++;
      t.equal(s.delayMs, 0, 'no delay without failures');
      await new Promise((resolve) => setTimeout(resolve, 2));
      s.succeeded();
    }),
  );
  t.equal(admitted, 8, 'waiting attempts are admitted once the others succeeded');
});

t.test('progressive delay per pair; other addresses and accounts unaffected (finding 2)', async (t) => {
  let now = 0;
  const throttle = new LoginThrottle({ maxFailuresPerPair: 10, baseDelayMs: 500, maxDelayMs: 15_000, windowMs: 60_000 }, () => now);
  const delays: number[] = [];
  for (let i = 0; i < 7; i++) {
    const s = await slot(throttle, '#3', '203.0.113.9');
    delays.push(s.delayMs);
    s.failed();
  }
  t.same(delays, [0, 500, 1000, 2000, 4000, 8000, 15000]);
  t.equal((await slot(throttle, '#3', '192.0.2.1')).delayMs, 0, "the owner's address is not slowed");
  t.equal((await slot(throttle, '#4', '203.0.113.9')).delayMs, 0, 'another account from the same address is not slowed');
  now += 60_001;
  t.equal((await slot(throttle, '#3', '203.0.113.9')).delayMs, 0, 'the window forgets');
});

t.test('pair limit refuses without a check, with the time to wait', async (t) => {
  let now = 1000;
  const throttle = new LoginThrottle({ maxFailuresPerPair: 2, windowMs: 60_000 }, () => now);
  (await slot(throttle, '#5', '203.0.113.10')).failed();
  now += 10_000;
  (await slot(throttle, '#5', '203.0.113.10')).failed();
  const refused = await throttle.admit('#5', '203.0.113.10');
  t.same(refused, { ok: false, retryAfterMs: 50_000 });
});

t.test('a success clears the pair, not the address count', async (t) => {
  const throttle = new LoginThrottle({ maxFailuresPerPair: 5, maxFailuresPerAddress: 3 });
  (await slot(throttle, '#6', '203.0.113.11')).failed();
  (await slot(throttle, '#6', '203.0.113.11')).failed();
  (await slot(throttle, '#6', '203.0.113.11')).succeeded();
  (await slot(throttle, '#7', '203.0.113.11')).failed();
  t.match(await throttle.admit('#8', '203.0.113.11'), { ok: false }, 'three failures from the address, whatever succeeded between');
});

t.test('an account under attack slows unknown addresses, not its known-good one', async (t) => {
  const throttle = new LoginThrottle({ accountAlarm: 4, maxDelayMs: 15_000 });
  (await slot(throttle, '#9', '192.0.2.50')).succeeded(); // the owner's usual place
  for (let i = 0; i < 4; i++) (await slot(throttle, '#9', `203.0.113.${100 + i}`)).failed();
  t.equal((await slot(throttle, '#9', '203.0.113.200')).delayMs, 15_000, 'a new address waits the longest delay');
  t.equal((await slot(throttle, '#9', '192.0.2.50')).delayMs, 0, 'the owner does not');
});
