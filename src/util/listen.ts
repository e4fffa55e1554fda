// Binding a listener from the config (listen.*), with the one line an operator reads when it
// fails: which key, which address, and why in words.
import type { Server } from 'node:net';
import type { Listener } from '../config/schema';
import { OperatorError } from './operator-error';

/** Listens on `listener`; resolves with the bound "address:port" (port 0: the one the system chose). */
export function listenOn(server: Server, key: string, listener: Listener): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const reason =
        err.code === 'EADDRINUSE'
          ? 'address already in use'
          : err.code === 'EACCES'
            ? 'permission denied (ports below 1024 need privileges)'
            : err.message;
      reject(new OperatorError(`cannot listen on ${key} ${listener.host}:${listener.port}: ${reason}`));
    };
    server.once('error', onError);
    server.listen(listener.port, listener.host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? `${address.address}:${address.port}` : String(address));
    });
  });
}
