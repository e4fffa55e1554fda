"""SORT and THREAD (RFC 5256) seen from Python's imaplib: imap.sort, imap.thread, UID SORT.

Usage: imaplib_sort.py HOST PORT CAFILE USER PASSWORD
Prints one JSON object with what each step returned; exits non-zero on an unexpected answer.
"""
import imaplib
import json

from imaplib_common import check, connect, text

imap, user, password = connect()
out = {}

check(imap.login(user, password), 'LOGIN')
out['capabilities'] = text(check(imap.capability(), 'CAPABILITY'))[0].split()
# appended now, in this order: message 4 has no Date: and sorts by its internal date (now)
messages = [
    ('Re: Bilan sanguin', 'Date: Tue, 2 Jun 2026 10:00:00 +0200\r\nReferences: <bilan@chu.example>\r\n', 'r1'),
    ('Planning de garde', 'Date: Mon, 1 Jun 2026 09:00:00 +0000\r\n', 'planning'),
    ('Bilan sanguin', 'Date: Mon, 1 Jun 2026 07:00:00 +0000\r\n', 'bilan'),
    ('Re: Planning de garde', 'In-Reply-To: <planning@chu.example>\r\n', 'r2'),
]
for subject, extra, message_id in messages:
    raw = (f'From: Dr Emile Peer <emile@chu.example>\r\nTo: Alice <alice@x.example>\r\nSubject: {subject}\r\n'
           f'{extra}Message-ID: <{message_id}@chu.example>\r\n\r\ntexte\r\n').encode('utf-8')
    check(imap.append('INBOX', None, None, raw), 'APPEND')
check(imap.select('INBOX'), 'SELECT')

out['sort_date'] = text(check(imap.sort('DATE', 'UTF-8', 'ALL'), 'SORT DATE'))
out['sort_reverse_subject'] = text(check(imap.sort('(REVERSE SUBJECT)', 'UTF-8', 'ALL'), 'SORT REVERSE SUBJECT'))
out['sort_search'] = text(check(imap.sort('DATE', 'UTF-8', 'SUBJECT', '"bilan"'), 'SORT with SUBJECT'))
out['uid_sort'] = text(check(imap.uid('SORT', '(DATE)', 'UTF-8', 'ALL'), 'UID SORT'))
out['thread_references'] = text(check(imap.thread('REFERENCES', 'UTF-8', 'ALL'), 'THREAD REFERENCES'))
out['thread_orderedsubject'] = text(check(imap.thread('ORDEREDSUBJECT', 'UTF-8', 'ALL'), 'THREAD ORDEREDSUBJECT'))
try:
    imap.sort('FROB', 'UTF-8', 'ALL')
    out['sort_bad'] = 'accepted'
except imaplib.IMAP4.error as err:
    out['sort_bad'] = str(err)

print(json.dumps(out))
imap.logout()
