"""Issue 12 seen from Python's imaplib: the compliance fixes and the extensions clients use.

Usage: imaplib_issue12.py HOST PORT CAFILE USER PASSWORD
Prints one JSON object with what each step returned; exits non-zero on an unexpected answer.
"""
import imaplib
import json
import time

from imaplib_common import check, connect, text

imap, user, password = connect()
out = {}

check(imap.login(user, password), 'LOGIN')
out['capabilities'] = text(check(imap.capability(), 'CAPABILITY'))[0].split()
when = imaplib.Time2Internaldate(time.time())
for subject, body in [('Bilan', 'Glycémie à jeun : 0,95 g/l.'), ('Planning', 'Garde du week-end.')]:
    message = (f'From: Dr Emile Peer <emile@chu.example>\r\nTo: Alice <alice@x.example>\r\nSubject: {subject}\r\n'
               'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
               f'{body}\r\n').encode('utf-8')
    check(imap.append('INBOX', None, when, message), 'APPEND')

# EXAMINE shows \Recent without taking it away (imaptest "select")
typ, data = imap.select('INBOX', readonly=True)
out['examine_recent'] = text(imap.untagged_responses.get('RECENT', []))
imap.close()
check(imap.select('INBOX'), 'SELECT')
out['select_recent'] = text(imap.untagged_responses.pop('RECENT', []))

# 8-bit in a quoted string, as imaplib sends it when given bytes (RFC 9051 section 4.3)
out['search_utf8_quoted'] = text(check(imap.search('UTF-8', b'TEXT', '"glycémie"'.encode('utf-8')), 'SEARCH UTF-8 quoted'))
out['search_folded'] = text(check(imap.search('UTF-8', b'BODY', '"GLYCÉMIE"'.encode('utf-8')), 'SEARCH upper case'))
out['search_from_name'] = text(check(imap.search(None, 'FROM', '"Emile Peer"'), 'SEARCH FROM name'))

# a new keyword is announced with FLAGS before the FETCH that carries it
imap.untagged_responses.pop('FLAGS', None)
check(imap.store('1', '+FLAGS', '(Urgent NIL)'), 'STORE keyword')
out['flags_after_store'] = text(imap.untagged_responses.pop('FLAGS', []))
out['fetch_flags'] = text(check(imap.fetch('1', '(FLAGS)'), 'FETCH FLAGS'))

# LIST with a pattern that is not modified UTF-7 is answered
out['list_atoms'] = imap.list('""', '~foo&')[0]

# ESEARCH (RFC 4731)
imap.untagged_responses.pop('ESEARCH', None)
check(imap.uid('SEARCH', 'RETURN', '(MIN MAX COUNT ALL)', 'ALL'), 'UID SEARCH RETURN')
out['esearch'] = text(imap.untagged_responses.pop('ESEARCH', []))

# STATUS=SIZE (RFC 8438)
out['status_size'] = text(check(imap.status('INBOX', '(MESSAGES SIZE)'), 'STATUS SIZE'))
out['appended_sizes'] = text(check(imap.fetch('1:*', '(RFC822.SIZE)'), 'FETCH RFC822.SIZE'))

# MULTIAPPEND (RFC 3502): imaplib has no API for it; sent on its connection with LITERAL+
first = b'Subject: brouillon 1\r\n\r\nun\r\n'
second = b'Subject: brouillon 2\r\n\r\ndeux\r\n'
imap.send(b'MA1 APPEND Brouillons (\\Draft) {%d+}\r\n%s (\\Draft \\Seen) {%d+}\r\n%s\r\n' % (len(first), first, len(second), second))
while True:
    line = imap.readline().decode()
    if line.startswith('MA1 '):
        out['multiappend'] = line.strip()
        break
out['drafts_status'] = text(check(imap.status('Brouillons', '(MESSAGES)'), 'STATUS Brouillons'))

print(json.dumps(out))
imap.logout()
