"""The IMAP message commands seen from Python's imaplib, a second independent client.

Usage: imaplib_scenario.py HOST PORT CAFILE USER PASSWORD
Prints one JSON object with what each step returned; exits non-zero on an unexpected answer.
"""
import imaplib
import json
import re
import time

from imaplib_common import check, connect, text

imap, user, password = connect()
out = {}

check(imap.login(user, password), 'LOGIN')
out['capabilities'] = text(check(imap.capability(), 'CAPABILITY'))[0].split()

message = (
    'From: Secrétariat <secretariat@hopital-test.fr>\r\n'
    'To: Alice <alice.martin@hopital-test.fr>\r\n'
    'Subject: =?utf-8?q?Dossier_n=C2=B042?=\r\n'
    'Date: Mon, 14 Dec 2026 09:30:00 +0100\r\n'
    'Message-ID: <imaplib.1@hopital-test.fr>\r\n'
    'MIME-Version: 1.0\r\n'
    'Content-Type: text/plain; charset=utf-8\r\n'
    'Content-Transfer-Encoding: 8bit\r\n'
    '\r\n'
    'Résultats disponibles au secrétariat.\r\n'
).encode('utf-8')
date = imaplib.Time2Internaldate(time.mktime((2026, 12, 14, 9, 30, 0, 0, 0, -1)))
data = check(imap.append('INBOX', r'(\Flagged $label1)', date, message), 'APPEND')
out['append'] = text(data)
check(imap.append('INBOX', None, None, message.replace(b'imaplib.1', b'imaplib.2').replace(b'Dossier', b'Rappel')), 'APPEND 2')

data = check(imap.select('INBOX'), 'SELECT')
out['select'] = text(data)
out['untagged_select'] = {k: text(v) for k, v in imap.untagged_responses.items() if k in ('FLAGS', 'PERMANENTFLAGS', 'UIDVALIDITY', 'UIDNEXT', 'OK')}

typ, data = imap.fetch('1:*', '(UID FLAGS RFC822.SIZE INTERNALDATE)')
out['fetch_meta'] = text(data)
typ, data = imap.fetch('1', '(BODY.PEEK[])')
out['body_equal'] = data[0][1] == message
typ, data = imap.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
out['subject_field'] = data[0][1].decode('ascii')
typ, data = imap.uid('FETCH', '2', '(BODY[TEXT] FLAGS)')
out['uid_fetch_text'] = [data[0][0].decode('ascii'), data[0][1].decode('utf-8'), data[1].decode('ascii') if isinstance(data[1], bytes) else data[1]]

data = check(imap.store('1', '+FLAGS', r'(\Seen $MDNSent)'), 'STORE')
out['store'] = text(data)
data = check(imap.store('2', '-FLAGS.SILENT', r'(\Seen)'), 'STORE silent')
out['store_silent'] = text(data)

imap.literal = 'secrétariat'.encode('utf-8')
data = check(imap.search('UTF-8', 'TEXT'), 'SEARCH UTF-8')
out['search_text'] = text(data)
out['search_flagged'] = text(check(imap.search(None, 'FLAGGED', 'KEYWORD', '$label1'), 'SEARCH FLAGGED'))
out['search_unseen'] = text(check(imap.search(None, 'UNSEEN'), 'SEARCH UNSEEN'))
out['uid_search'] = text(check(imap.uid('SEARCH', None, 'SUBJECT', 'Rappel'), 'UID SEARCH'))

typ, data = imap.copy('1:2', 'Corbeille')
out['copy'] = [typ] + text(data)
out['copy_response'] = text(imap.untagged_responses.get('COPYUID', []))
typ, data = imap.copy('1', 'Inexistant')
out['copy_missing'] = [typ] + text(data)

check(imap.store('1', '+FLAGS.SILENT', r'(\Deleted)'), 'STORE deleted')
data = check(imap.expunge(), 'EXPUNGE')
out['expunge'] = text(data)
out['after'] = text(imap.fetch('1:*', '(UID)')[1])
imap.close()
imap.logout()
print(json.dumps(out))
