"""A scripted IMAP session with python3's imaplib over implicit TLS (IMAP4_SSL), verifying the
server's certificate. Usage: imaplib-session.py HOST PORT USER PASSWORD CAFILE OUTDIR

Lists the mailboxes, selects INBOX, writes every message's BODY.PEEK[] to OUTDIR/<uid>.eml, flags
the first one \\Flagged, and prints a JSON summary on stdout."""
import imaplib
import json
import os
import re
import ssl
import sys

host, port, user, password, cafile, outdir = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=cafile)
imap = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx, timeout=30)
summary = {"capabilities_before": list(imap.capabilities)}
typ, _ = imap.login(user, password)
assert typ == "OK", typ
typ, data = imap.capability()
summary["capabilities"] = data[0].decode().split()
typ, boxes = imap.list()
assert typ == "OK", typ
summary["mailboxes"] = [b.decode() for b in boxes]
typ, data = imap.select("INBOX")
assert typ == "OK", (typ, data)
summary["exists"] = int(data[0])
typ, data = imap.uid("SEARCH", None, "ALL")
assert typ == "OK", typ
uids = [int(u) for u in data[0].split()]
summary["uids"] = uids
for uid in uids:
    typ, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
    assert typ == "OK", (typ, data)
    parts = [d for d in data if isinstance(d, tuple)]
    assert len(parts) == 1, data
    with open(os.path.join(outdir, f"{uid}.eml"), "wb") as f:
        f.write(parts[0][1])
if uids:
    typ, data = imap.uid("STORE", str(uids[0]), "+FLAGS", "(\\Flagged)")
    assert typ == "OK", (typ, data)
    typ, data = imap.uid("FETCH", str(uids[0]), "(FLAGS)")
    assert typ == "OK", (typ, data)
    summary["flags_after_store"] = re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).decode().split()
    typ, data = imap.uid("SEARCH", None, "FLAGGED")
    summary["flagged"] = [int(u) for u in data[0].split()]
imap.close()
imap.logout()
print(json.dumps(summary))
