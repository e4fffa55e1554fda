"""Issue 12 (imap-sync) seen from Python's imaplib: subscriptions kept by name, the implicit
CONDSTORE enable, QRESYNC (SELECT parameter, UID FETCH VANISHED, VANISHED instead of EXPUNGE)
and ID without its argument.

Usage: imaplib_sync.py HOST PORT CAFILE USER PASSWORD
Prints one JSON object with what each step returned; exits non-zero on an unexpected answer.
"""
import imaplib
import json
import time

from imaplib_common import check, connect, text

imaplib.Commands.setdefault('ID', ('NONAUTH', 'AUTH', 'SELECTED'))
imap, user, password = connect()
out = {}


def command(*args):
    """Runs a command imaplib has no method for; returns (status, every untagged line's data)."""
    try:
        typ, data = imap._simple_command(*args)
    except imap.error as err:  # BAD ends up here
        return 'BAD', [str(err)]
    return typ, data


check(imap.login(user, password), 'LOGIN')
out['id_bare'] = command('ID')[0]

# Subscriptions: CREATE does not subscribe, a subscription outlives DELETE (RFC 5258 \NonExistent)
check(imap.create('Brut'), 'CREATE')
out['lsub_after_create'] = text(check(imap.lsub('""', 'Brut'), 'LSUB'))
check(imap.subscribe('Brut'), 'SUBSCRIBE')
check(imap.delete('Brut'), 'DELETE')
typ, _ = command('LIST', '(SUBSCRIBED)', '""', 'Brut')
out['list_subscribed_deleted'] = text(imap.untagged_responses.pop('LIST', []))
out['lsub_after_delete'] = text(check(imap.lsub('""', 'Brut'), 'LSUB'))

when = imaplib.Time2Internaldate(time.time())
for n in range(1, 4):
    check(imap.append('INBOX', None, when, f'Subject: message {n}\r\n\r\ntexte {n}\r\n'.encode()), 'APPEND')

# Implicit CONDSTORE: FETCH MODSEQ reports HIGHESTMODSEQ first (RFC 7162 section 3.1)
check(imap.select('INBOX'), 'SELECT')
imap.untagged_responses.pop('HIGHESTMODSEQ', None)
check(imap.fetch('1', '(MODSEQ)'), 'FETCH MODSEQ')
out['highestmodseq_after_fetch_modseq'] = text(imap.untagged_responses.pop('HIGHESTMODSEQ', []))
imap.close()

# QRESYNC
check(imap.enable('QRESYNC'), 'ENABLE QRESYNC')
out['enable'] = text(imap.untagged_responses.pop('ENABLED', []))
check(imap.select('INBOX'), 'SELECT')
uidvalidity = text(imap.untagged_responses['UIDVALIDITY'])[-1]
known = text(imap.untagged_responses['HIGHESTMODSEQ'])[-1]
check(imap.uid('STORE', '1', '+FLAGS', '(\\Deleted)'), 'STORE')
check(imap.uid('STORE', '2', '+FLAGS', '(\\Seen)'), 'STORE')
imap.untagged_responses.pop('VANISHED', None)
check(imap.expunge(), 'EXPUNGE')
out['vanished_on_expunge'] = text(imap.untagged_responses.pop('VANISHED', []))
imap.untagged_responses.pop('FETCH', None)
out['uid_fetch_vanished'] = text(check(imap.uid('FETCH', '1:*', f'(FLAGS) (CHANGEDSINCE {known} VANISHED)'), 'UID FETCH VANISHED'))
out['uid_fetch_vanished_untagged'] = text(imap.untagged_responses.pop('VANISHED', []))
imap.close()
for key in ('VANISHED', 'FETCH'):
    imap.untagged_responses.pop(key, None)
typ, _ = command('SELECT', 'INBOX', f'(QRESYNC ({uidvalidity} {known}))')
imap.state = 'SELECTED'
out['qresync_select'] = typ
out['qresync_vanished'] = text(imap.untagged_responses.pop('VANISHED', []))
out['qresync_fetch'] = text(imap.untagged_responses.pop('FETCH', []))
imap.logout()
print(json.dumps(out))
