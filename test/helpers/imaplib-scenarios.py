#!/usr/bin/env python3
"""A second, independent IMAP client for the mailbox tests: Python's imaplib.

Usage: imaplib-scenarios.py HOST IMAP_PORT IMAPS_PORT CAFILE USER PASSWORD

Runs the scenarios over STARTTLS (IMAP_PORT) and implicit TLS (IMAPS_PORT) and prints one JSON
object: what each step answered, for test/e2e/imap-mailboxes-clients.test.ts to check. A step
that raises is recorded with its error; the script itself exits 0 unless it cannot connect.
"""
import imaplib
import json
import re
import ssl
import sys

host, imap_port, imaps_port, cafile, user, password = sys.argv[1:7]
context = ssl.create_default_context(cafile=cafile)
result = {}


def text(data):
    return [item.decode('utf-8', 'replace') if isinstance(item, bytes) else repr(item) for item in data if item is not None]


def step(name, fn):
    try:
        result[name] = fn()
    except Exception as err:  # recorded, the test decides
        result[name] = {'error': f'{type(err).__name__}: {err}'}


# STARTTLS on the cleartext port: LOGIN is refused before TLS (LOGINDISABLED).
plain = imaplib.IMAP4(host, int(imap_port))
result['capabilities_before_tls'] = sorted(plain.capabilities)
plain.starttls(ssl_context=context)
result['capabilities_after_tls'] = sorted(plain.capabilities)
step('login', lambda: plain.login(user, password)[0])


def listing():
    typ, data = plain.list()
    return {'typ': typ, 'lines': text(data)}


step('list', listing)
step('list_special_use', lambda: text(plain.list('""', '*')[1]))
step('create', lambda: plain.create('"Dossier imaplib/R&AOk-sultats"')[0])
step('create_again', lambda: text([plain.create('"Dossier imaplib/R&AOk-sultats"')[1][0]]))


def status_all():
    statuses = {}
    for line in text(plain.list()[1]):
        match = re.match(r'^\((.*?)\) "/" (.*)$', line)
        if not match or '\\Noselect' in match.group(1) or '\\NonExistent' in match.group(1):
            continue
        name = match.group(2)
        typ, data = plain.status(name, '(MESSAGES UIDNEXT UNSEEN)')
        statuses[name] = {'typ': typ, 'data': text(data)}
    return statuses


step('status_all', status_all)


def select_inbox():
    typ, data = plain.select('INBOX')
    return {'typ': typ, 'exists': text(data), 'uidvalidity': text(plain.response('UIDVALIDITY')[1]),
            'flags': text(plain.response('FLAGS')[1])}


step('select', select_inbox)
step('close', lambda: plain.close()[0])


def examine():
    typ, data = plain.select('"Envoy&AOk-s"', readonly=True)
    readonly = text(plain.response('READ-ONLY')[1])
    plain.close()
    return {'typ': typ, 'exists': text(data), 'readonly': readonly}


step('examine', examine)
step('select_missing', lambda: plain.select('"Nulle part"')[0])
step('delete', lambda: plain.delete('"Dossier imaplib/R&AOk-sultats"')[0])
step('delete_special', lambda: text([plain.delete('"Corbeille"')[1][0]]))
step('logout', lambda: plain.logout()[0])

# Implicit TLS on the IMAPS port.
secure = imaplib.IMAP4_SSL(host, int(imaps_port), ssl_context=context)
step('imaps_login', lambda: secure.login(user, password)[0])
step('imaps_status', lambda: text(secure.status('INBOX', '(MESSAGES HIGHESTMODSEQ)')[1]))
step('imaps_logout', lambda: secure.logout()[0])

print(json.dumps(result))
