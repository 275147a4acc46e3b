#!/usr/bin/env python3
"""bench/load_seed.py URL LIMS_TOKEN PATIENTS DRAWS [FIRST]: seeds a relapsewatch store through
its REST API, as a LIMS would: per patient a registration, a surgery, then DRAWS ddPCR draws 3
months apart (register the sample, PUT its wells). Cheap results on purpose: the load benchmark
measures the server's read paths, not the analysis. One keep-alive connection per thread, 4
threads. Prints progress to stderr; exits non-zero at the first non-2xx answer."""
import datetime
import http.client
import json
import sys
import threading
import urllib.parse

url, token, n_patients, n_draws = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
first = int(sys.argv[5]) if len(sys.argv) > 5 else 0
host = urllib.parse.urlsplit(url)
HEAD = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
failed = []


def call(conn, method, path, body):
    conn.request(method, path, json.dumps(body), HEAD)
    r = conn.getresponse()
    data = r.read()
    if r.status // 100 != 2:
        raise RuntimeError(f"{method} {path}: {r.status} {data[:200]!r}")
    return json.loads(data) if data else {}


def seed(lo, hi):
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
    try:
        for i in range(lo, hi):
            ext = f"LOAD-{i:07d}"
            p = call(conn, "POST", "/api/v1/patients",
                     {"external_id": ext, "diagnosis_date": "2020-01-15",
                      "primary_1q213_status": "amplified", "primary_1q213_cn": 6})
            day = datetime.date(2020, 3, 1)
            for d in range(n_draws):
                acc = f"{ext}-{d}"
                when = day + datetime.timedelta(days=91 * d)
                call(conn, "POST", f"/api/v1/patients/{p['id']}/samples",
                     {"accession": acc, "collected_at": when.isoformat(), "assay": "ddpcr"})
                # A rising target in one patient in ten, so the cohort holds alerts.
                tp = 100 + (i % 10 == 0) * 40 * d + (i * 7 + d * 13) % 17
                call(conn, "PUT", f"/api/v1/samples/{acc}/ddpcr",
                     {"wells": [{"target_positive": tp, "reference_positive": 100,
                                 "droplets": 15000}]})
            if (i - lo) % 500 == 499:
                print(f"  thread {lo}: {i - lo + 1} patients", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - reported and counted
        failed.append(str(e))


threads, step = [], (n_patients + 3) // 4
for t in range(4):
    lo, hi = first + t * step, first + min(n_patients, (t + 1) * step)
    if lo < hi:
        threads.append(threading.Thread(target=seed, args=(lo, hi)))
for t in threads:
    t.start()
for t in threads:
    t.join()
if failed:
    print("load_seed.py: " + failed[0], file=sys.stderr)
    sys.exit(1)
