"""What the imaplib client scripts share: the TLS connection from the command line, and helpers
that check an answer and decode it.

Command line of every script: HOST PORT CAFILE USER PASSWORD.
"""
import imaplib
import ssl
import sys


def connect():
    """Opens IMAPS to the daemon under test, trusting its development CA; returns (imap, user, password)."""
    host, port, cafile, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    context = ssl.create_default_context(cafile=cafile)
    context.check_hostname = False
    return imaplib.IMAP4_SSL(host, port, ssl_context=context), user, password


def check(result, what):
    typ, data = result
    if typ != 'OK':
        raise SystemExit(f'{what}: {typ} {data!r}')
    return data


def text(data):
    return [d.decode('utf-8', 'replace') if isinstance(d, bytes) else d for d in data]
