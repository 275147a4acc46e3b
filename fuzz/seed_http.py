#!/usr/bin/env python3
"""fuzz/seed_http.py [SRCDIR]: seeds for the HTTP harness from the API's own description.

For every operation of docs/openapi/*.json, a complete raw request (an admin's token is "@T@",
which fuzz_http replaces): path parameters filled (ids 1, accession A-1, ...), every documented
query parameter given a value of its schema, and a JSON body built from the request schema
(its example when it has one, else every property with a value of its type, enum or format),
so the mutations start inside each handler's validator instead of at the router. Writes
fuzz/corpus/http/api-<operationId>[-min] (a second, minimal body with only the required
properties) and the dictionary fuzz/http.dict (path segments, query names, JSON keys, enum
values) that fuzz/run.sh hands to libFuzzer. The files are committed; rerun after an API change.
"""
import glob
import json
import os
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
docs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(SRC, "docs/openapi/*.json")))]
components = {}
for d in docs:
    for kind, items in d.get("components", {}).items():
        components.setdefault(kind, {}).update(items)
words = set()


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        _, _, kind, name = node["$ref"].split("/")
        node = components[kind][name]
    return node


def value(schema, name="", minimal=False):
    """A plausible value of schema (name: the property, for well-known formats)."""
    s = resolve(schema)
    for key in ("example", "default"):
        if key in s:
            return s[key]
    if "enum" in s:
        words.update(str(v) for v in s["enum"])
        return s["enum"][0]
    for key in ("oneOf", "anyOf", "allOf"):
        if key in s:
            return value(s[key][0], name, minimal)
    t = s.get("type", "object")
    t = [x for x in t if x != "null"][0] if isinstance(t, list) else t
    if t == "object":
        props = s.get("properties", {})
        keep = s.get("required", []) if minimal else list(props)
        words.update(props)
        return {k: value(props[k], k, minimal) for k in keep if k in props}
    if t == "array":
        return [value(s.get("items", {}), name, minimal)]
    if t == "integer":
        return max(1, s.get("minimum", 1))
    if t == "number":
        return s.get("minimum", 0) + 1.5
    if t == "boolean":
        return True
    fmt = s.get("format", "")
    if fmt == "date" or name.endswith("_date") or name in ("date", "collected_at"):
        return "2026-01-02"
    if fmt == "date-time" or name.endswith("_at") or name.endswith("_since"):
        return "2026-01-02T03:04:05Z"
    if "accession" in name:
        return "A-1"
    return "x-1"


def path_of(template, params):
    """template with its {name} parameters filled."""
    for p in params:
        if p.get("in") == "path":
            v = value(p.get("schema", {}), p["name"])
            template = template.replace("{%s}" % p["name"], str(v if v != "x-1" else "A-1"))
    return template


# Bodies of the operations that take no JSON: a small file of the kind each takes.
IMPORT_CSV = (b"record,patient,date,kind,accession,target_positive,reference_positive,droplets\r\n"
              b"patient,IMP-1,2024-01-15,,,,,\r\ntreatment,IMP-1,2024-02-01,surgery,,,,\r\n"
              b"draw,IMP-1,2024-03-01,,IMP-1-1,120,60,15000\r\n")
RAW = {"text/csv": lambda path: IMPORT_CSV,
       "text/tab-separated-values": lambda path: open(f"{SRC}/fuzz/corpus/bins/normal.tsv", "rb").read(),
       "application/octet-stream": lambda path: open(
           f"{SRC}/fuzz/corpus/pon/pon5mb.tsv" if "pons" in path else f"{SRC}/tests/data/cram/range.bam",
           "rb").read()}


def request(method, path, body, ctype="application/json"):
    head = [f"{method} {path} HTTP/1.1", "Host: x", "Authorization: Bearer @T@"]
    data = b""
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        head += [f"Content-Type: {ctype}", f"Content-Length: {len(data)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


out = os.path.join(SRC, "fuzz/corpus/http")
os.makedirs(out, exist_ok=True)
n = 0
for d in docs:
    for template, ops in d.get("paths", {}).items():
        words.update(seg for seg in template.split("/") if seg and not seg.startswith("{"))
        shared = ops.get("parameters", [])
        for method, op in ops.items():
            if method not in ("get", "post", "put", "patch", "delete", "head"):
                continue
            params = [resolve(p) for p in shared + op.get("parameters", [])]
            query = []
            for p in params:
                if p.get("in") == "query":
                    words.add(p["name"])
                    v = value(p.get("schema", {}), p["name"])
                    query.append(f"{p['name']}={v}")
            path = path_of(template, params) + ("?" + "&".join(query) if query else "")
            content = resolve(op.get("requestBody", {})).get("content", {})
            schema = content.get("application/json", {})
            name = op.get("operationId", f"{method}-{template}").replace("/", "_")
            bodies = [(name + "-" + t.split("/")[1], RAW[t](path), t) for t in content if t in RAW]
            if "application/json" in content:
                full = schema.get("example") or value(schema.get("schema", {}))
                bodies += [(name, full, "application/json"),
                           (name + "-min", value(schema.get("schema", {}), minimal=True), "application/json")]
            elif not bodies:
                bodies = [(name, None if method in ("get", "head", "delete") else {}, "application/json")]
            for fname, body, ctype in bodies:
                with open(os.path.join(out, "api-" + fname), "wb") as f:
                    f.write(request(method.upper(), path, body, ctype))
                n += 1

with open(os.path.join(SRC, "fuzz/http.dict"), "w") as f:
    f.write("# libFuzzer dictionary of the HTTP harness: made by fuzz/seed_http.py from docs/openapi\n")
    for w in sorted(words):
        if w and all(32 <= ord(c) < 127 and c not in '"\\' for c in w):
            f.write(f'"{w}"\n')
print(f"{n} requests in {out}, {len(words)} words in fuzz/http.dict", file=sys.stderr)
