// `mssd device add|list|revoke` (R16, issue 11): device passwords of a box. The rules live in
// src/auth/devices.ts; a revocation made here reaches the running daemon's open sessions within a
// second (it watches other processes' commits, src/store/external-changes.ts).
import os from 'node:os';
import type { Command } from 'commander';
import { createDevicePassword, DeviceError, listDevices, revokeDevice, type SettingsActor } from '../auth/devices';
import { findAccount } from '../store/accounts';
import type { Db } from '../store/database';
import { CliError } from './context';
import type { WithContext } from './with-context';

function personalBox(db: Db, login: string): { id: number; login: string } {
  const account = findAccount(db, login);
  if (!account) throw new CliError(`no box has the address ${login}`);
  if (account.type === 'ORG') throw new CliError(`${login} is an organisational box (BAL ORG): devices belong to the personal boxes linked to it`);
  return { id: account.id, login: account.login };
}

function operator(): SettingsActor {
  let name = 'operator';
  try {
    name = os.userInfo().username;
  } catch {
    // no user name in this environment: keep the generic one
  }
  return { source: 'cli', login: name };
}

function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function rethrow(err: unknown): never {
  if (err instanceof DeviceError) throw new CliError(err.message);
  throw err;
}

export function registerDeviceCommands(program: Command, withContext: WithContext): void {
  const device = program.command('device').description('device passwords of a box (R16): one per mail program or phone, revocable');

  device
    .command('add <login>')
    .description('create a device password, printed once ({id, name, password} with --json)')
    .requiredOption('--name <name>', 'what the device is, e.g. "Thunderbird cabinet"')
    .action(
      withContext((ctx, opts, [login]) => {
        const box = personalBox(ctx.db, login);
        let created;
        try {
          created = createDevicePassword(ctx.db, box.id, String(opts.name), operator());
        } catch (err) {
          rethrow(err);
        }
        ctx.print(
          { id: created.id, name: created.name, password: created.password },
          `device ${created.id} "${created.name}" of ${box.login}\npassword: ${created.password}\n(shown once: type it in the mail program now)`,
        );
      }),
    );

  device
    .command('list <login>')
    .description('devices of a box: name, creation, last use (time, protocol, address)')
    .action(
      withContext((ctx, _opts, [login]) => {
        const box = personalBox(ctx.db, login);
        const devices = listDevices(ctx.db, box.id);
        const rows = devices.map(
          (d) =>
            `${String(d.id).padStart(4)}  ${d.name}\n      created ${when(d.createdAt)}  last used ${
              d.lastUsedAt === null ? 'never' : `${when(d.lastUsedAt)} ${d.lastUsedProtocol} from ${d.lastUsedAddress}`
            }`,
        );
        ctx.print(
          devices.map((d) => ({
            id: d.id,
            name: d.name,
            createdAt: when(d.createdAt),
            lastUsedAt: d.lastUsedAt === null ? null : when(d.lastUsedAt),
            lastUsedProtocol: d.lastUsedProtocol,
            lastUsedAddress: d.lastUsedAddress,
          })),
          rows.length === 0 ? `${box.login} has no device passwords` : rows.join('\n'),
        );
      }),
    );

  device
    .command('revoke <login> <id>')
    .description('revoke a device: its next login fails and its open sessions are cut')
    .action(
      withContext((ctx, _opts, [login, id]) => {
        const box = personalBox(ctx.db, login);
        if (!/^\d{1,15}$/.test(id)) throw new CliError(`device id must be a number (see mssd device list ${login}), not "${id}"`);
        if (!revokeDevice(ctx.db, box.id, Number(id), operator())) throw new CliError(`${box.login} has no device ${id}`);
        ctx.print({ id: Number(id), revoked: true }, `device ${id} of ${box.login} revoked`);
      }),
    );
}
