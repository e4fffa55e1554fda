#!/usr/bin/env python3
"""Logs in to the daemon with Python's own clients, as a health software or script would.

usage: auth_clients.py HOST PORT CAFILE PROTOCOL MECHANISM USER SECRET
  PROTOCOL  imap (implicit TLS) | smtp (STARTTLS)
  MECHANISM login | xoauth2 | oauthbearer
Prints one JSON object: {"ok": bool, "error": str|null, "capabilities": [...], "messages": n}.
"""
import base64
import imaplib
import json
import smtplib
import ssl
import sys

host, port, cafile, protocol, mechanism, user, secret = sys.argv[1:8]
context = ssl.create_default_context(cafile=cafile)
context.check_hostname = False
result = {"ok": False, "error": None, "capabilities": [], "messages": None}


def xoauth2(user, token):
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def oauthbearer(user, token):
    return f"n,a={user},\x01auth=Bearer {token}\x01\x01"


try:
    if protocol == "imap":
        imap = imaplib.IMAP4_SSL(host, int(port), ssl_context=context)
        result["capabilities"] = list(imap.capabilities)
        if mechanism == "login":
            imap.login(user, secret)
        else:
            message = (xoauth2 if mechanism == "xoauth2" else oauthbearer)(user, secret)
            # imaplib answers any further challenge (the RFC 7628 error JSON) with an empty line.
            imap.authenticate(mechanism.upper(), lambda challenge: message.encode() if challenge == b"" else b"")
        status, data = imap.select("INBOX")
        result["messages"] = int(data[0])
        imap.logout()
        result["ok"] = True
    else:
        smtp = smtplib.SMTP(host, int(port), timeout=20)
        smtp.starttls(context=context)
        smtp.ehlo("python-client.example")
        result["capabilities"] = smtp.esmtp_features.get("auth", "").split()
        if mechanism == "login":
            smtp.login(user, secret)
        else:
            message = (xoauth2 if mechanism == "xoauth2" else oauthbearer)(user, secret)
            smtp.auth(mechanism.upper(), lambda challenge=None: message if challenge is None else "\x01", initial_response_ok=True)
        smtp.quit()
        result["ok"] = True
except (imaplib.IMAP4.error, smtplib.SMTPException) as err:
    result["error"] = str(err)
print(json.dumps(result))
