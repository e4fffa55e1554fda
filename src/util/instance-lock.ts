// One daemon per data directory. The lock is a Unix socket in the data directory: the kernel
// releases it when the process dies (even by SIGKILL), and a second daemon learns whether the
// first is alive by trying to connect to it, so a stale socket file never blocks a restart.
import { existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { OperatorError } from './operator-error';

export class AlreadyRunningError extends OperatorError {
  override name = 'AlreadyRunningError';
}

function isAlive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

function listen(server: net.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export interface InstanceLock {
  release(): Promise<void>;
}

export async function acquireInstanceLock(dataDir: string): Promise<InstanceLock> {
  const socketPath = path.join(dataDir, 'mssd.lock.sock');
  const server = net.createServer((socket) => socket.end());
  try {
    await listen(server, socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    if (await isAlive(socketPath)) {
      throw new AlreadyRunningError(`another mssd is already running on the data directory ${dataDir}`);
    }
    unlinkSync(socketPath); // left behind by a daemon that died
    await listen(server, socketPath);
  }
  return {
    release: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          if (existsSync(socketPath)) {
            try {
              unlinkSync(socketPath);
            } catch {
              // already gone
            }
          }
          resolve();
        });
      }),
  };
}
