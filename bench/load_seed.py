#!/usr/bin/env python3
"""bench/load_seed.py URL TOKEN PATIENTS DRAWS [FIRST]: seeds a relapsewatch store through its
REST API with the same cohort either way: per patient a registration (amplified primary, copy
number 6), a surgery, then DRAWS ddPCR draws 3 months apart with one well each. Cheap results on
purpose: the load benchmark measures the server's read paths, not the analysis. One patient in
ten has a rising target, so the cohort holds alerts.

MODE=import (the default; TOKEN is an admin's): the cohort as CSV files of CHUNK (2,000) patients,
each one POST /api/v1/admin/import (docs/api-import.md: one transaction per file, every record
audited, each draw's analysis queued as PUT .../ddpcr would).
MODE=api (TOKEN is a LIMS's): as a LIMS would, one request per record (POST patient, POST
sample, PUT wells), CLIENTS (8) keep-alive connections in parallel.
Prints progress to stderr; exits non-zero at the first non-2xx answer."""
import datetime
import http.client
import json
import os
import sys
import threading
import urllib.parse

url, token, n_patients, n_draws = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
first = int(sys.argv[5]) if len(sys.argv) > 5 else 0
host = urllib.parse.urlsplit(url)
MODE = os.environ.get("MODE", "import")
CHUNK = int(os.environ.get("CHUNK", "2000"))
CLIENTS = int(os.environ.get("CLIENTS", "8"))
DAY0 = datetime.date(2020, 3, 1)
failed = []


def draws_of(i):
    """(accession, date, target_positive) of patient i's draws."""
    ext = f"LOAD-{i:07d}"
    for d in range(n_draws):
        when = DAY0 + datetime.timedelta(days=91 * d)
        yield f"{ext}-{d}", when.isoformat(), 100 + (i % 10 == 0) * 40 * d + (i * 7 + d * 13) % 17


def call(conn, method, path, body, ctype="application/json"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    conn.request(method, path, data, {"Authorization": "Bearer " + token, "Content-Type": ctype})
    r = conn.getresponse()
    out = r.read()
    if r.status // 100 != 2:
        raise RuntimeError(f"{method} {path}: {r.status} {out[:300]!r}")
    return json.loads(out) if out else {}


def csv_of(lo, hi):
    lines = ["record,patient,date,kind,primary_1q213_status,primary_1q213_cn,accession,"
             "target_positive,reference_positive,droplets"]
    for i in range(lo, hi):
        ext = f"LOAD-{i:07d}"
        lines.append(f"patient,{ext},2020-01-15,,amplified,6,,,,")
        lines.append(f"treatment,{ext},2020-02-01,surgery,,,,,,")
        for acc, when, tp in draws_of(i):
            lines.append(f"draw,{ext},{when},,,,{acc},{tp},100,15000")
    return ("\n".join(lines) + "\n").encode()


def seed_import():
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=600)
    for lo in range(first, first + n_patients, CHUNK):
        hi = min(lo + CHUNK, first + n_patients)
        call(conn, "POST", "/api/v1/admin/import", csv_of(lo, hi), "text/csv")
        print(f"  imported patients {lo - first + 1}-{hi - first}", file=sys.stderr)


def seed_api(lo, hi):
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
    try:
        for i in range(lo, hi):
            p = call(conn, "POST", "/api/v1/patients",
                     {"external_id": f"LOAD-{i:07d}", "diagnosis_date": "2020-01-15",
                      "primary_1q213_status": "amplified", "primary_1q213_cn": 6})
            call(conn, "POST", f"/api/v1/patients/{p['id']}/treatments",
                 {"kind": "surgery", "start_date": "2020-02-01"})
            for acc, when, tp in draws_of(i):
                call(conn, "POST", f"/api/v1/patients/{p['id']}/samples",
                     {"accession": acc, "collected_at": when, "assay": "ddpcr"})
                call(conn, "PUT", f"/api/v1/samples/{acc}/ddpcr",
                     {"wells": [{"target_positive": tp, "reference_positive": 100,
                                 "droplets": 15000}]})
            if (i - lo) % 500 == 499:
                print(f"  client {lo}: {i - lo + 1} patients", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - reported and counted
        failed.append(str(e))


if MODE == "import":
    try:
        seed_import()
    except Exception as e:  # noqa: BLE001
        failed.append(str(e))
else:
    threads, step = [], (n_patients + CLIENTS - 1) // CLIENTS
    for t in range(CLIENTS):
        lo, hi = first + t * step, first + min(n_patients, (t + 1) * step)
        if lo < hi:
            threads.append(threading.Thread(target=seed_api, args=(lo, hi)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
if failed:
    print("load_seed.py: " + failed[0], file=sys.stderr)
    sys.exit(1)
