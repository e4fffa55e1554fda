// One pino logger for the process: JSON lines on stdout. Callers log identifiers, peers and
// outcomes; never message bodies, never passwords.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'mssd' },
      redact: { paths: ['password', '*.password', 'pass', '*.pass', 'auth.password'], censor: '[secret]' },
    },
    destination,
  );
}
