// One pino logger for the process: JSON lines on stdout — or, when stdout is a terminal
// (`npm start` by hand), the same lines pretty-printed by pino-pretty (MSSD_LOG_FORMAT=json keeps
// JSON there too). Callers log identifiers, peers and outcomes; never message bodies, never
// passwords.
import pino from 'pino';
import pretty from 'pino-pretty';

export type Logger = pino.Logger;

function defaultDestination(): pino.DestinationStream | undefined {
  if (!process.stdout.isTTY || process.env.MSSD_LOG_FORMAT === 'json') return undefined;
  return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', sync: true });
}

export function createLogger(level: string = 'info', destination: pino.DestinationStream | undefined = defaultDestination()): Logger {
  return pino(
    {
      level,
      base: { service: 'mssd' },
      redact: { paths: ['password', '*.password', 'pass', '*.pass', 'auth.password'], censor: '[secret]' },
    },
    destination,
  );
}
