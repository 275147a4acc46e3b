"""A small MLLP receiver for tests/integration/test_hl7.sh: accepts HL7 v2 messages framed
0x0B ... 0x1C 0x0D, saves each (framing included) as DIR/msg-N.hl7, and answers an ACK: AR
(rejected) for the first NAK_FIRST messages it receives, AE for any message containing
AE_WHEN (when given, non-empty), AA otherwise. Over TLS with CERT and KEY (PEM files). Writes its
port to DIR/port.
Usage: python3 mllp_receiver.py DIR NAK_FIRST [AE_WHEN [CERT KEY]]"""
import os
import socket
import ssl
import sys

out, nak_first = sys.argv[1], int(sys.argv[2])
ae_when = sys.argv[3].encode() if len(sys.argv) > 3 and sys.argv[3] else None
tls = None
if len(sys.argv) > 5:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(sys.argv[4], sys.argv[5])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(8)
with open(os.path.join(out, "port.tmp"), "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
n = 0
while True:
    conn, _ = srv.accept()
    conn.settimeout(10)
    if tls:
        try:
            conn = tls.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):  # a client that refused our certificate
            conn.close()
            continue
    buf = b""
    try:
        while not buf.endswith(b"\x1c\x0d"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
    except socket.timeout:
        pass
    if not buf.endswith(b"\x1c\x0d"):
        conn.close()
        continue
    n += 1
    with open(os.path.join(out, "msg-%d.hl7" % n), "wb") as f:
        f.write(buf)
    msh = buf[1:].split(b"\r", 1)[0].split(b"|")
    control = msh[9] if len(msh) > 9 else b""
    code = b"AR" if n <= nak_first else b"AE" if ae_when and ae_when in buf else b"AA"
    ack = (b"MSH|^~\\&|RECEIVER|HOSP|RELAPSEWATCH|RELAPSEWATCH|20240101000000||ACK^R01^ACK|A%d|P|2.5.1\r"
           b"MSA|" + code + b"|" + control + b"|" + (b"try later" if code == b"AR" else b"") + b"\r")
    conn.sendall(b"\x0b" + ack + b"\x1c\x0d")
    conn.close()
