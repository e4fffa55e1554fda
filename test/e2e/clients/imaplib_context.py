"""Issue 12, the imap-context branch seen by Python's imaplib: CONTEXT=SEARCH / CONTEXT=SORT
(RFC 5267: PARTIAL, RETURN (UPDATE) followed across two connections, CANCELUPDATE) and CATENATE
(RFC 4469: URL parts through imaplib, TEXT literal parts over the same socket with LITERAL+).

Command line: HOST PORT CAFILE USER PASSWORD OTHER_USER. Prints one JSON object.
"""
import imaplib
import json
import sys

from imaplib_common import check, connect, text

imaplib.Commands['CANCELUPDATE'] = ('SELECTED',)  # RFC 5267, unknown to imaplib
out = {}
a, user, password = connect()
b, _, _ = connect()
check(a.login(user, password), 'LOGIN a')
check(b.login(user, password), 'LOGIN b')
out['capabilities'] = text(check(a.capability(), 'CAPABILITY'))[0].split()

for i in range(1, 6):
    check(a.append('INBOX', None, None, f'From: labo@hopital.fr\r\nSubject: resultat {i}\r\n\r\nvaleur {i}\r\n'.encode()), 'APPEND')
check(a.select('INBOX'), 'SELECT a')
check(b.select('INBOX'), 'SELECT b')


def esearch(imap, *args):
    typ, data = imap._simple_command(*args)
    return typ, text(imap._untagged_response(typ, data, 'ESEARCH')[1])


out['partial'] = esearch(a, 'SEARCH', 'RETURN', '(PARTIAL 2:3)', 'ALL')
out['uid_partial_nil'] = esearch(a, 'UID', 'SEARCH', 'RETURN', '(PARTIAL 9:10)', 'ALL')
out['sort_partial'] = esearch(a, 'SORT', 'RETURN', '(PARTIAL 1:2)', '(REVERSE ARRIVAL)', 'UTF-8', 'ALL')

# a live search: another connection flags messages, this one hears ADDTO at its next command
tag = a._new_tag().decode()
a.send(f'{tag} SEARCH RETURN (UPDATE) FLAGGED\r\n'.encode())
lines = []
while True:
    line = a.readline().decode().rstrip('\r\n')
    lines.append(line)
    if line.startswith(tag + ' '):
        break
out['update_start'] = lines
out['update_tag'] = tag
check(b.store('2,4', '+FLAGS', '(\\Flagged)'), 'STORE b')
typ, data = a.noop()
out['after_store'] = text(a.untagged_responses.pop('ESEARCH', []))
check(b.store('2', '-FLAGS', '(\\Flagged)'), 'STORE b 2')
a.noop()
out['after_unflag'] = text(a.untagged_responses.pop('ESEARCH', []))
typ, data = a._simple_command('CANCELUPDATE', f'"{tag}"')
out['cancel'] = typ
check(b.store('5', '+FLAGS', '(\\Flagged)'), 'STORE b 5')
a.noop()
out['after_cancel'] = text(a.untagged_responses.pop('ESEARCH', []))

# CATENATE: the header of message 1 and the text of message 3 into a draft, by URL only
typ, data = a._simple_command('APPEND', 'Brouillons', 'CATENATE', '(URL "/INBOX/;UID=1/;SECTION=HEADER" URL "/INBOX/;UID=3/;SECTION=TEXT")')
out['catenate_urls'] = [typ, text(data)]
# a TEXT literal part (LITERAL+: imaplib cannot send a literal followed by more arguments)
body = b'Transmis sans telechargement\r\n'
tag = a._new_tag().decode()
a.send(f'{tag} APPEND Brouillons CATENATE (URL "/INBOX/;UID=2/;SECTION=HEADER" TEXT {{{len(body)}+}}\r\n'.encode() + body + b')\r\n')
while True:
    line = a.readline().decode().rstrip('\r\n')
    if line.startswith(tag + ' '):
        out['catenate_text'] = line
        break
other = sys.argv[6]
typ, data = a._simple_command('APPEND', 'Brouillons', 'CATENATE', f'(URL "imap://{other.replace("@", "%40")}@localhost/INBOX/;UID=1")')
out['catenate_other_user'] = [typ, text(data)]
check(a.select('Brouillons'), 'SELECT Brouillons')
typ, data = a.fetch('1:2', '(BODY.PEEK[])')
out['drafts'] = [item[1].decode() for item in data if isinstance(item, tuple)]
a.logout()
b.logout()
print(json.dumps(out))
