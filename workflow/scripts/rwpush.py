#!/usr/bin/env python3
"""Idempotent push of counted bins to relapsewatchd, and the workflow's summary.

  rwpush.py push --url URL --sheet SHEET.tsv --accession ACC --bins BINS.tsv -o RECEIPT.json
  rwpush.py summary --url URL [--wait SECONDS] -o SUMMARY.tsv RECEIPT.json...

push: POST the patient, POST the sample (assay "bins"), PUT the bins. The daemon answers 201/202
when it creates or queues something and 200 when it already holds exactly that, writing nothing;
so a re-run is harmless and the receipt records which happened. A 409 (the daemon holds other
content under that patient, accession or input) is an error with the daemon's message: fix the
sheet or the sample, never overwrite silently. The token comes from $RW_TOKEN (never a file or
the command line, which end up in logs). Only the Python standard library is used.
"""
import argparse
import csv
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

PATIENT_FIELDS = ("er_status", "pr_status", "her2_status", "primary_1q213_status")


class ApiError(Exception):
    pass


def request(url, method, path, body=None, content_type="application/json"):
    """(status, parsed JSON or None). Raises ApiError on a network failure."""
    token = os.environ.get("RW_TOKEN", "")
    if not token:
        raise ApiError("RW_TOKEN is not set (an API token of role lims or admin)")
    data = None
    headers = {"Authorization": "Bearer " + token}
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url.rstrip("/") + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        raise ApiError(f"{method} {url}{path}: {e}") from e
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def expect(what, status, answer, ok):
    """Maps an answer to 'created' / 'existing' (or raises with the daemon's message)."""
    if status in ok:
        return ok[status]
    message = (answer or {}).get("error", {}).get("message", "no message")
    raise ApiError(f"{what}: HTTP {status}: {message}")


def sheet_row(path, accession):
    with open(path, newline="") as f:
        rows = csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")
        for row in rows:
            if row["accession"] == accession:
                return row
    raise ApiError(f"{accession} is not in {path}")


def push(args):
    row = sheet_row(args.sheet, args.accession)
    patient = {"external_id": row["patient"], "diagnosis_date": row["diagnosis_date"]}
    for key in PATIENT_FIELDS:
        if (row.get(key) or "").strip():
            patient[key] = row[key].strip()
    if (row.get("primary_1q213_cn") or "").strip():
        patient["primary_1q213_cn"] = float(row["primary_1q213_cn"])
    status, answer = request(args.url, "POST", "/api/v1/patients", patient)
    patient_did = expect(f"patient {row['patient']}", status, answer,
                         {201: "created", 200: "existing"})
    patient_id = answer["id"]

    sample = {"accession": args.accession, "collected_at": row["collected_at"], "assay": "bins"}
    if (row.get("received_at") or "").strip():
        sample["received_at"] = row["received_at"].strip()
    status, answer = request(args.url, "POST", f"/api/v1/patients/{patient_id}/samples", sample)
    sample_did = expect(f"sample {args.accession}", status, answer,
                        {201: "created", 200: "existing"})

    with open(args.bins, "rb") as f:
        bins = f.read()
    quoted = urllib.parse.quote(args.accession, safe="")
    status, answer = request(args.url, "PUT", f"/api/v1/samples/{quoted}/bins", bins,
                             "text/tab-separated-values")
    bins_did = expect(f"bins of {args.accession}", status, answer,
                      {202: "queued", 200: "unchanged"})
    job = (answer or {}).get("job") or {}
    receipt = {"accession": args.accession, "patient_id": patient_id, "patient": patient_did,
               "sample": sample_did, "bins": bins_did, "job_id": job.get("id"),
               "bins_bytes": len(bins)}
    write_atomic(args.output, json.dumps(receipt, sort_keys=True) + "\n")
    print(f"{args.accession}: patient {patient_did}, sample {sample_did}, bins {bins_did}",
          file=sys.stderr)


def job_state(url, job_id, wait):
    """The job's state, waiting up to `wait` seconds for it to end."""
    deadline = time.monotonic() + wait
    while True:
        status, job = request(url, "GET", f"/api/v1/jobs/{job_id}")
        state = job.get("state") if status == 200 and job else f"HTTP {status}"
        if state not in ("queued", "running") or time.monotonic() >= deadline:
            return state
        time.sleep(0.5)


def summary(args):
    lines = ["accession\tpatient_id\treads_kept\tpatient\tsample\tbins\tjob_id\tjob_state\tcall"]
    for path in args.receipts:
        with open(path) as f:
            receipt = json.load(f)
        acc = receipt["accession"]
        qc_path = os.path.join(os.path.dirname(os.path.dirname(path)) or ".", "qc", acc + ".json")
        reads_kept = ""
        if os.path.exists(qc_path):
            with open(qc_path) as f:
                reads_kept = str(json.load(f).get("reads_kept", ""))
        job_id = receipt.get("job_id")
        state = job_state(args.url, job_id, args.wait) if job_id else ""
        call = ""
        if state == "done":
            # "-" when the token may not read results (a lims token: least privilege).
            status, profile = request(args.url, "GET",
                                      f"/api/v1/samples/{urllib.parse.quote(acc, safe='')}/profile")
            if status == 200 and profile:
                call = ((profile.get("call") or {}).get("call")) or ""
            elif status == 403:
                call = "-"
        lines.append("\t".join(str(x) for x in (
            acc, receipt["patient_id"], reads_kept, receipt["patient"], receipt["sample"],
            receipt["bins"], job_id or "", state, call)))
    write_atomic(args.output, "\n".join(lines) + "\n")


def write_atomic(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("push", help="register the patient and sample, upload the bins")
    a.add_argument("--url", required=True)
    a.add_argument("--sheet", required=True)
    a.add_argument("--accession", required=True)
    a.add_argument("--bins", required=True)
    a.add_argument("-o", "--output", required=True)
    s = sub.add_parser("summary", help="one TSV line per sample")
    s.add_argument("--url", required=True)
    s.add_argument("--wait", type=float, default=0)
    s.add_argument("-o", "--output", required=True)
    s.add_argument("receipts", nargs="+")
    args = p.parse_args()
    try:
        push(args) if args.command == "push" else summary(args)
    except (ApiError, OSError, ValueError, KeyError) as e:
        print(f"rwpush: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
