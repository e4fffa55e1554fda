"""Issue 12 extensions of the imap-ext branch seen by Python: BINARY and the ACL read side through
imaplib, COMPRESS=DEFLATE over a raw TLS socket with Python's zlib (imaplib has no COMPRESS).

Command line: HOST PORT CAFILE USER PASSWORD ORG_FOLDER. Prints one JSON object.
"""
import base64
import json
import socket
import ssl
import sys
import zlib

from imaplib_common import check, connect, text

PDF = b'%PDF\x00\x01\xff\n'
out = {}

imap, user, password = connect()
check(imap.login(user, password), 'LOGIN')
out['capabilities'] = text(check(imap.capability(), 'CAPABILITY'))[0].split()

# BINARY: an attachment in base64, fetched decoded; a literal8 upload (imaplib sends {n}, so
# the literal8 form goes through the raw socket below)
message = (
    b'From: a@b.fr\r\nSubject: pdf\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    b'--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nR=C3=A9sultat\r\n'
    b'--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n' + base64.b64encode(PDF) + b'\r\n--b--\r\n'
)
check(imap.append('INBOX', None, None, message), 'APPEND')
check(imap.select('INBOX'), 'SELECT')
typ, data = imap.fetch('1', '(BINARY.SIZE[2] BINARY.PEEK[2] BINARY.PEEK[1])')
out['binary_fetch'] = [[part.decode('latin1') if isinstance(part, bytes) else part for part in item] if isinstance(item, tuple) else item.decode('latin1') for item in data]
out['binary_pdf_ok'] = any(isinstance(item, tuple) and item[1] == PDF for item in data)
typ, data = imap.fetch('1', '(BINARY.PEEK[1])')
out['binary_text'] = data[0][1].decode('utf-8') if isinstance(data[0], tuple) else None

# ACL read side
out['myrights_inbox'] = text(check(imap.myrights('INBOX'), 'MYRIGHTS'))
out['getacl_inbox'] = text(check(imap.getacl('INBOX'), 'GETACL'))
org = sys.argv[6]
out['myrights_org'] = text(check(imap.myrights(org), 'MYRIGHTS ORG'))
typ, data = imap.getacl(org)
out['getacl_org'] = [typ, text(data)]
typ, data = imap.setacl('INBOX', 'someone@example.fr', 'lr')
out['setacl'] = [typ, text(data)]
imap.logout()

# COMPRESS=DEFLATE over a raw socket
host, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
context = ssl.create_default_context(cafile=cafile)
context.check_hostname = False
sock = context.wrap_socket(socket.create_connection((host, port), timeout=20))
buffered = b''
inflater = None
deflater = None


def read_line():
    global buffered
    while b'\r\n' not in buffered:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit('connection closed; got ' + repr(buffered))
        buffered += inflater.decompress(chunk) if inflater else chunk
    line, buffered = buffered.split(b'\r\n', 1)
    return line


def read_exact(count):
    global buffered
    while len(buffered) < count:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit('connection closed')
        buffered += inflater.decompress(chunk) if inflater else chunk
    data, buffered = buffered[:count], buffered[count:]
    return data


def send(data):
    if deflater:
        sock.sendall(deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH))
    else:
        sock.sendall(data)


def command(tag, line):
    """Sends a command; returns the untagged lines (literals inlined) and the tagged line."""
    send(tag + b' ' + line + b'\r\n')
    lines = []
    while True:
        got = read_line()
        while got.endswith(b'}') and b'{' in got:
            size = int(got[got.rindex(b'{') + 1:-1])
            got = got + b'\r\n' + read_exact(size) + read_line()
        if got.startswith(tag + b' '):
            return lines, got.decode('latin1')
        lines.append(got)


read_line()  # greeting
login = b'"' + user.encode() + b'" "' + password.encode() + b'"'
out['compress_before_login'] = command(b'C0', b'COMPRESS DEFLATE')[1]
command(b'C1', b'LOGIN ' + login)
out['compress'] = command(b'C2', b'COMPRESS DEFLATE')[1]
inflater = zlib.decompressobj(-15)
deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
received_before = 0
out['compress_again'] = command(b'C3', b'COMPRESS DEFLATE')[1]
lines, tagged = command(b'C4', b'CAPABILITY')
out['capability_compressed'] = [tagged, lines[0].decode('latin1')]
big = b'Subject: gros\r\n\r\n' + b''.join(b'ligne %06d du compte rendu de consultation\r\n' % i for i in range(20000))
send(b'C5 APPEND INBOX {%d}\r\n' % len(big))
out['append_continuation'] = read_line().decode('latin1')[:1]
send(big)
send(b'\r\n')
while True:
    line = read_line()
    if line.startswith(b'C5 '):
        out['append_big'] = line.decode('latin1')
        break
binary_message = b'Subject: bin\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n' + PDF
send(b'C6 APPEND INBOX ~{%d}\r\n' % len(binary_message))
read_line()
send(binary_message + b'\r\n')
while True:
    line = read_line()
    if line.startswith(b'C6 '):
        out['append_literal8'] = line.decode('latin1')
        break
command(b'C7', b'SELECT INBOX')
lines, tagged = command(b'C8', b'FETCH 1:* (RFC822.SIZE)')
out['sizes'] = [int(line.split(b'RFC822.SIZE ')[1].rstrip(b')')) for line in lines if b'RFC822.SIZE' in line]
out['big_size'] = len(big)
lines, tagged = command(b'C9', b'FETCH 2 BODY.PEEK[]')
out['big_roundtrip'] = lines[0].split(b'\r\n', 1)[1][:-1] == big
lines, tagged = command(b'C10', b'FETCH 3 (BINARY.PEEK[1] BODY.PEEK[1])')
out['literal8_binary'] = (b'BINARY[1] ~{8}\r\n' + PDF) in lines[0]
out['literal8_body_base64'] = base64.b64encode(PDF) in lines[0]
# the line limit holds on the inflated stream: 200 000 octets of one line compress to almost nothing
out['long_line'] = command(b'C12', b'NOOP ' + b'x' * 200000)[1]
out['after_long_line'] = command(b'C13', b'NOOP')[1]
out['logout'] = command(b'C11', b'LOGOUT')[1]
sock.close()
print(json.dumps(out))
