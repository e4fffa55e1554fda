// systemd integration without a native module: when the unit says Type=notify, systemd sets
// NOTIFY_SOCKET and we report through `systemd-notify` (the message then comes from a child
// process, so the unit needs NotifyAccess=all). READY=1 once every listener is up; with
// WatchdogSec=, WATCHDOG=1 at half the interval while the event loop turns and the store takes
// writes — a daemon stuck in a loop or on a dead disk is restarted by systemd.
import { execFile } from 'node:child_process';
import type { Logger } from './log';

function notify(log: Logger, args: string[]): void {
  execFile('systemd-notify', args, { timeout: 5000 }, (err) => {
    if (err) log.warn({ systemd: args.join(' '), err: err.message }, 'systemd-notify failed');
  });
}

export interface SystemdNotifier {
  stop(): void;
}

/**
 * Tells systemd the daemon is ready, then keeps its watchdog fed while `healthy()` says so.
 * Does nothing outside a Type=notify unit.
 */
export function notifySystemdReady(log: Logger, healthy: () => boolean, env: NodeJS.ProcessEnv = process.env): SystemdNotifier {
  if (!env.NOTIFY_SOCKET) return { stop: () => undefined };
  notify(log, ['--ready', `--pid=${process.pid}`, '--status=serving']);
  const watchdogUsec = Number(env.WATCHDOG_USEC);
  const watchdogPid = env.WATCHDOG_PID === undefined ? process.pid : Number(env.WATCHDOG_PID);
  if (!Number.isFinite(watchdogUsec) || watchdogUsec <= 0 || watchdogPid !== process.pid) return { stop: () => undefined };
  const timer = setInterval(() => {
    if (healthy()) notify(log, [`--pid=${process.pid}`, 'WATCHDOG=1']);
    else log.warn('store not writable: systemd watchdog not fed');
  }, Math.max(1000, watchdogUsec / 2000));
  timer.unref();
  log.info({ watchdogSeconds: watchdogUsec / 1e6 }, 'systemd watchdog enabled');
  return {
    stop: () => {
      clearInterval(timer);
      notify(log, [`--pid=${process.pid}`, 'STOPPING=1']);
    },
  };
}
