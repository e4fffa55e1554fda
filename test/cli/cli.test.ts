// Drives the real launcher (bin/mssd, built into dist/ by `npm test`) as operators do: child
// processes, a temporary config, --json output, one-line errors with a non-zero exit (R15).
import t from 'tap';
import type { TapTest } from '../helpers/tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const bin = path.join(root, 'bin', 'mssd');
const allowlist = path.join(root, 'config', 'listeblanche-exemple.xml');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function run(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...options.env };
    if (!options.env?.MSSD_CONFIG) delete env.MSSD_CONFIG;
    const child = spawn(process.execPath, [bin, ...args], { cwd: os.tmpdir(), env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) }),
    );
    child.stdin.end(options.input ?? '');
  });
}

/** A fresh data dir and config file; `mssd(...)` runs a command against it with --json. */
function workspace() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-cli-'));
  const config = path.join(dir, 'mssd.json');
  writeFileSync(config, JSON.stringify({ dataDir: path.join(dir, 'data'), trustSpace: { allowlistFile: allowlist } }));
  const mssd = (args: string[], input?: string) => run([...args, '--config', config, '--json'], { input });
  return { dir, config, mssd };
}

/** Asserts a refusal: non-zero exit, nothing on stdout, exactly one line on stderr matching `problem`. */
function refused(t: TapTest, result: Run, problem: RegExp, what: string): void {
  t.not(result.code, 0, `${what}: non-zero exit`);
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  t.equal(lines.length, 1, `${what}: one line on stderr (${JSON.stringify(result.stderr)})`);
  t.match(lines[0] ?? '', /^mssd: /, `${what}: prefixed`);
  t.match(lines[0] ?? '', problem, `${what}: names the problem`);
  t.notMatch(result.stderr, /\n\s+at /, `${what}: no stack trace`);
}

const PASSWORD = 'Secr3t!pass\n';
const perArgs = ['--type', 'PER', '--login', 'jean.dupont@exemple.fr', '--first-name', 'Jean', '--last-name', 'Dupont', '--rpps', '10101234567'];

t.test('migrate, then personal boxes: create, show, status, set, set-type', async (t) => {
  const { mssd, config } = workspace();
  const migrated = await mssd(['migrate']);
  t.equal(migrated.code, 0, migrated.stderr);
  t.ok(migrated.json().applied.some((m: { version: number }) => m.version === 1), 'initial migration applied');
  t.same((await mssd(['migrate'])).json().applied, [], 'nothing left to apply');

  const per = await mssd(['account', 'create', ...perArgs, '--profession', 'Médecin', '--city', 'Lyon', '--postcode', '69003', '--password-stdin'], PASSWORD);
  t.equal(per.code, 0, per.stderr);
  t.equal(per.json().status, 'active');
  t.notMatch(per.stdout, /Secr3t|scrypt/, 'no password or hash printed');

  const shown = await mssd(['account', 'show', 'jean.dupont@exemple.mssante.fr']);
  t.equal(shown.code, 0, shown.stderr);
  const box = shown.json();
  t.match(box, {
    login: 'jean.dupont@exemple.fr',
    type: 'PER',
    status: 'active',
    addresses: [
      { address: 'jean.dupont@exemple.fr', kind: 'login' },
      { address: 'jean.dupont@exemple.mssante.fr', kind: 'mssante' },
    ],
    rpps: '10101234567',
    finess: null,
    names: { firstName: 'Jean', lastName: 'Dupont' },
    profession: 'Médecin',
    city: 'Lyon',
    postcode: '69003',
    visibility: { localDirectory: true, nationalDirectory: true },
    dematerialisation: false,
    notifications: { each: false, daily: false, opening: false },
    orgs: [],
    forwards: [],
    autoreply: null,
  });
  t.same(
    box.folders.map((f: { name: string; specialUse: string | null; messages: number }) => [f.name, f.specialUse, f.messages]),
    [['INBOX', null, 0], ['Brouillons', '\\Drafts', 0], ['Corbeille', '\\Trash', 0], ['Envoyés', '\\Sent', 0]],
  );
  t.notOk('password_hash' in box || JSON.stringify(box).includes('scrypt'), 'show never reveals the hash');

  const text = await run(['account', 'show', 'jean.dupont@exemple.fr', '--config', config]);
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout, /jean\.dupont@exemple\.mssante\.fr \(mssante\)/, 'readable summary without --json');
  t.match(text.stdout, /INBOX: 0 message/);

  // A namesake gets a numbered default address; INT is never published nationally.
  const int = await mssd(['account', 'create', '--type', 'INT', '--login', 'jdupont@exemple.fr', '--first-name', 'Jean', '--last-name', 'Dupont', '--pending']);
  t.equal(int.code, 0, int.stderr);
  t.match(int.json(), { type: 'INT', status: 'pending', hasPassword: false, visibility: { nationalDirectory: false } });
  t.equal(int.json().addresses[1].address, 'jean.dupont2@exemple.mssante.fr');
  t.match((await mssd(['account', 'validate', 'jdupont@exemple.fr'])).json(), { from: 'pending', to: 'active', changed: true });
  t.match((await mssd(['account', 'suspend', 'jean.dupont2@exemple.mssante.fr'])).json(), { from: 'active', to: 'suspended' });
  t.equal((await mssd(['account', 'show', 'jdupont@exemple.fr'])).json().status, 'suspended');

  // MED: login only; then MED → PER gains an MSSanté address and the national directory (R13).
  const med = await mssd(['account', 'create', '--type', 'MED', '--login', 'lea.roux@exemple.fr', '--first-name', 'Léa', '--last-name', 'Roux']);
  t.equal(med.code, 0, med.stderr);
  t.same(med.json().addresses, [{ address: 'lea.roux@exemple.fr', kind: 'login' }]);
  const upgraded = await mssd(['account', 'set-type', 'lea.roux@exemple.fr', 'PER', '--rpps', '10100000001']);
  t.equal(upgraded.code, 0, upgraded.stderr);
  t.same(upgraded.json(), { login: 'lea.roux@exemple.fr', from: 'MED', to: 'PER', addedAddress: 'lea.roux@exemple.mssante.fr' });
  t.match((await mssd(['account', 'show', 'lea.roux@exemple.mssante.fr'])).json(), {
    type: 'PER',
    rpps: '10100000001',
    visibility: { nationalDirectory: true },
  });

  // account set: switches and password.
  const set = await mssd(['account', 'set', 'jean.dupont@exemple.fr', '--national-directory', 'off', '--notify-each', 'on', '--dematerialisation', 'on']);
  t.equal(set.code, 0, set.stderr);
  t.same(set.json().changed, ['nationalDirectory', 'dematerialisation', 'notifyEach']);
  t.match((await mssd(['account', 'show', 'jean.dupont@exemple.fr'])).json(), {
    visibility: { localDirectory: true, nationalDirectory: false },
    dematerialisation: true,
    notifications: { each: true, daily: false, opening: false },
  });
  const password = await mssd(['account', 'set', 'jdupont@exemple.fr', '--password-stdin'], 'N0uveau#motdepasse\r\n');
  t.equal(password.code, 0, password.stderr);
  t.equal((await mssd(['account', 'show', 'jdupont@exemple.fr'])).json().hasPassword, true);

  // Refusals, each one line naming the problem.
  const refusals: Array<[string[], RegExp, string, string?]> = [
    [['account', 'create', ...perArgs.slice(0, 2), '--login', 'a@exemple.fr', ...perArgs.slice(4), '--password-stdin'], /special character/, 'weak password', 'Secr3tpass\n'],
    [['account', 'create', '--type', 'PER', '--login', 'b@exemple.fr', '--first-name', 'B', '--last-name', 'B', '--rpps', '1234'], /invalid RPPS '1234'.*11 digits/, 'bad RPPS'],
    [['account', 'create', '--type', 'PER', '--login', 'c@exemple.fr', '--first-name', 'C', '--last-name', 'C'], /PER box requires an RPPS/, 'PER without RPPS'],
    [['account', 'create', '--type', 'MED', '--login', 'd@exemple.fr', '--first-name', 'D', '--last-name', 'D', '--mssante-address', 'd@exemple.mssante.fr'], /MED box has no MSSanté address/, 'MED with an MSSanté address'],
    [['account', 'create', ...perArgs], /already in use/, 'duplicate login'],
    [['account', 'create', '--type', 'XYZ', '--login', 'f@exemple.fr', '--first-name', 'F', '--last-name', 'F'], /--type.*Allowed choices are PER, MED, INT/, 'bad type'],
    [['account', 'create', '--type', 'PER', '--first-name', 'F', '--last-name', 'F'], /required option '--login/, 'missing required option'],
    [['account', 'show', 'nobody@exemple.fr'], /no box has the address nobody@exemple.fr/, 'unknown login'],
    [['account', 'show', 'jean.dupont@exemple.fr', '--bogus'], /unknown option '--bogus'/, 'unknown option'],
    [['account', 'set', 'jean.dupont@exemple.fr', '--local-directory', 'yes'], /--local-directory.*'yes' is invalid.*on, off/, 'bad on/off value'],
    [['account', 'set', 'jdupont@exemple.fr', '--national-directory', 'on'], /an INT box is never published/, 'INT in the national directory'],
    [['account', 'set', 'jean.dupont@exemple.fr', '--password-stdin'], /no password on standard input/, 'empty stdin'],
    [['account', 'set-type', 'jdupont@exemple.fr', 'PER'], /becoming PER requires an RPPS/, 'set-type PER without RPPS'],
    [['account', 'frobnicate'], /unknown command 'frobnicate'/, 'unknown command'],
    [['account'], /account: missing command \(one of: create, validate/, 'group without subcommand'],
    [['account', 'show'], /missing required argument 'login'/, 'missing argument'],
  ];
  const results = await Promise.all(refusals.map(([args, , , input]) => mssd(args, input)));
  refusals.forEach(([, problem, what], i) => refused(t, results[i], problem, what));
  t.equal((await mssd(['account', 'show', 'a@exemple.fr'])).code, 1, 'refused creation left no box');
});

t.test('ORG boxes and membership', async (t) => {
  const { mssd, config } = workspace();
  t.equal((await mssd(['account', 'create', ...perArgs])).code, 0);
  t.equal((await mssd(['account', 'create', '--type', 'MED', '--login', 'sec@exemple.fr', '--first-name', 'Léa', '--last-name', 'Roux'])).code, 0);
  const orgArgs = ['--login', 'contact@pharmacie.fr', '--address', 'pharmacie.centrale@exemple.mssante.fr', '--name', 'Pharmacie centrale', '--finess', '750000010', '--responsible-rpps', '10101234567'];
  const created = await mssd(['org', 'create', ...orgArgs, '--description', 'Officine du centre']);
  t.equal(created.code, 0, created.stderr);
  t.match(created.json(), {
    login: 'contact@pharmacie.fr',
    type: 'ORG',
    status: 'active',
    hasPassword: false,
    addresses: [{ address: 'pharmacie.centrale@exemple.mssante.fr', kind: 'mssante' }],
    finess: '750000010',
    responsibleRpps: '10101234567',
    names: { orgName: 'Pharmacie centrale' },
    description: 'Officine du centre',
  });

  const org = 'pharmacie.centrale@exemple.mssante.fr';
  t.match((await mssd(['org', 'add-member', org, 'jean.dupont@exemple.fr'])).json(), { member: 'jean.dupont@exemple.fr', notify: true }, 'R18: notices on by default');
  t.equal((await mssd(['org', 'add-member', org, 'sec@exemple.fr'])).code, 0, 'a MED secretary can be a delegate');
  t.match((await mssd(['org', 'set-notify', org, 'sec@exemple.fr', 'on'])).json(), { notify: true });
  t.match((await mssd(['org', 'set-notify', org, 'jean.dupont@exemple.fr', 'off'])).json(), { notify: false }, 'the opt-out');
  t.match((await mssd(['account', 'show', org])).json(), {
    members: [
      { login: 'jean.dupont@exemple.fr', type: 'PER', notify: false },
      { login: 'sec@exemple.fr', type: 'MED', notify: true },
    ],
  });
  t.same((await mssd(['account', 'show', 'jean.dupont@exemple.fr'])).json().orgs, [org]);
  t.match((await mssd(['org', 'remove-member', org, 'sec@exemple.fr'])).json(), { removed: true });
  t.same((await mssd(['account', 'show', 'sec@exemple.fr'])).json().orgs, []);

  const text = await run(['account', 'show', org, '--config', config]);
  t.match(text.stdout, /Pharmacie centrale/);
  t.match(text.stdout, /FINESS:\s+750000010/);

  const refusals: Array<[string[], RegExp, string]> = [
    [['org', 'create', ...orgArgs.slice(0, 6), '--finess', '750000011', '--responsible-rpps', '10101234567'], /invalid FINESS '750000011'/, 'bad FINESS key'],
    [['org', 'create', ...orgArgs.slice(0, 8)], /required option '--responsible-rpps/, 'ORG without responsible RPPS'],
    [['org', 'create', ...orgArgs.slice(0, 8), '--responsible-rpps', ''], /responsible professional's RPPS/, 'ORG with an empty responsible RPPS'],
    [['org', 'create', ...orgArgs], /already used/, 'duplicate ORG'],
    [['org', 'add-member', org, org], /only personal boxes/, 'ORG as member'],
    [['org', 'remove-member', org, 'sec@exemple.fr'], /not a member/, 'remove a non-member'],
    [['org', 'set-notify', org, 'jean.dupont@exemple.fr', 'maybe'], /'maybe' is invalid.*on, off/, 'bad on/off argument'],
    [['account', 'set', org, '--password-stdin'], /ORG box has no password/, 'ORG password'],
  ];
  const results = await Promise.all(refusals.map(([args]) => mssd(args, 'Secr3t!pass\n')));
  refusals.forEach(([, problem, what], i) => refused(t, results[i], problem, what));
});

t.test('forwards and automatic replies', async (t) => {
  const { mssd, dir } = workspace();
  t.equal((await mssd(['account', 'create', ...perArgs])).code, 0);
  t.equal((await mssd(['account', 'create', '--type', 'MED', '--login', 'sec@exemple.fr', '--first-name', 'Léa', '--last-name', 'Roux'])).code, 0);

  const added = await mssd(['forward', 'add', 'jean.dupont@exemple.mssante.fr', 'confrere@hopital-fictif.mssante.fr']);
  t.equal(added.code, 0, added.stderr);
  t.same(added.json(), { box: 'jean.dupont@exemple.fr', target: 'confrere@hopital-fictif.mssante.fr', added: true });
  t.equal((await mssd(['forward', 'add', 'sec@exemple.fr', 'jean.dupont@exemple.fr'])).code, 0, 'local target');
  t.same((await mssd(['account', 'show', 'jean.dupont@exemple.fr'])).json().forwards, ['confrere@hopital-fictif.mssante.fr']);
  t.same((await mssd(['forward', 'remove', 'jean.dupont@exemple.fr', 'confrere@hopital-fictif.mssante.fr'])).json(), {
    box: 'jean.dupont@exemple.fr',
    target: 'confrere@hopital-fictif.mssante.fr',
    removed: true,
  });
  t.same((await mssd(['account', 'show', 'jean.dupont@exemple.fr'])).json().forwards, []);

  const body = path.join(dir, 'absence.txt');
  writeFileSync(body, 'Je suis absent jusqu’au 15 août.\nEn cas d’urgence : 15.\n');
  const set = await mssd(['autoreply', 'set', 'jean.dupont@exemple.fr', '--start', '2030-08-01T08:00+02:00', '--end', '2030-08-15', '--subject', 'Absence', '--body-file', body]);
  t.equal(set.code, 0, set.stderr);
  t.match(set.json(), { box: 'jean.dupont@exemple.fr', start: '2030-08-01T06:00:00.000Z', subject: 'Absence' });
  t.match((await mssd(['account', 'show', 'jean.dupont@exemple.mssante.fr'])).json().autoreply, {
    start: '2030-08-01T06:00:00.000Z',
    subject: 'Absence',
    body: 'Je suis absent jusqu’au 15 août.\nEn cas d’urgence : 15.\n',
  });
  t.same((await mssd(['autoreply', 'clear', 'jean.dupont@exemple.mssante.fr'])).json(), { box: 'jean.dupont@exemple.fr', cleared: true });
  t.equal((await mssd(['account', 'show', 'jean.dupont@exemple.fr'])).json().autoreply, null);

  const latin1 = path.join(dir, 'latin1.txt');
  writeFileSync(latin1, Buffer.from([0x61, 0xe9, 0x0a]));
  const reply = (start: string, end: string, file = body) => ['autoreply', 'set', 'jean.dupont@exemple.fr', '--start', start, '--end', end, '--subject', 'Absence', '--body-file', file];
  const refusals: Array<[string[], RegExp, string]> = [
    [['forward', 'add', 'jean.dupont@exemple.fr', 'someone@gmail.com'], /gmail\.com is outside the MSSanté trust space/, 'forward outside the trust space'],
    [['forward', 'add', 'jean.dupont@exemple.fr', 'jean.dupont@exemple.mssante.fr'], /cannot forward to itself/, 'forward to itself'],
    [['forward', 'add', 'sec@exemple.fr', 'confrere@hopital-fictif.mssante.fr'], /MED box may forward only to local/, 'MED forward outside'],
    [['forward', 'add', 'ghost@exemple.fr', 'jean.dupont@exemple.fr'], /no box has the address ghost@exemple.fr/, 'unknown box'],
    [reply('2030-02-30', '2030-03-02'), /--start: '2030-02-30' is not an ISO 8601 date/, 'impossible date'],
    [reply('2030-08-15', '2030-08-01'), /--end must be after --start/, 'end before start'],
    [reply('2020-01-01', '2020-01-02'), /in the past/, 'period already over'],
    [reply('2030-08-01', '2030-08-15', path.join(dir, 'missing.txt')), /--body-file: cannot read .*missing\.txt: ENOENT/, 'missing body file'],
    [reply('2030-08-01', '2030-08-15', latin1), /not valid UTF-8/, 'body not UTF-8'],
  ];
  const results = await Promise.all(refusals.map(([args]) => mssd(args)));
  refusals.forEach(([, problem, what], i) => refused(t, results[i], problem, what));
});

t.test('config, environment, help and launcher', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-cli-'));
  const badKey = path.join(dir, 'bad.json');
  writeFileSync(badKey, JSON.stringify({ dataDir: dir, limits: { maxRecipientz: 3 } }));
  refused(t, await run(['account', 'show', 'x@exemple.fr', '--config', badKey]), /limits\.maxRecipientz: unknown key/, 'bad config key');
  refused(t, await run(['migrate', '--config', path.join(dir, 'absent.json')]), /cannot read .*absent\.json/, 'missing config file');
  refused(t, await run(['serve', '--config', badKey]), /maxRecipientz/, 'serve with a bad config');

  // MSSD_CONFIG is used when --config is absent.
  const good = path.join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ dataDir: path.join(dir, 'data'), trustSpace: { allowlistFile: allowlist } }));
  const viaEnv = await run(['migrate', '--json'], { env: { MSSD_CONFIG: good } });
  t.equal(viaEnv.code, 0, viaEnv.stderr);
  t.equal(JSON.parse(viaEnv.stdout).applied[0].version, 1);

  const help = await run(['account', 'create', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /--mssante-address/);
  t.match(help.stdout, /--config <file>/, 'global options shown');
  t.equal(help.stderr, '');
  refused(t, await run([]), /missing command \(one of: serve, migrate, account/, 'no command at all');
  refused(t, await run(['frobnicate']), /unknown command 'frobnicate'/, 'unknown top-level command');
  t.match((await run(['--version'])).stdout, /^\d+\.\d+\.\d+/);
});
