"""Parse Terraform files with python-hcl2 (a real HCL2 parser) and print them as plain JSON:
string quotes removed, parser markers dropped, top-level blocks keyed by type and name:
{"resource": {"aws_autoscaling_policy": {"cpu55": {...}}}, "variable": {"zone": {...}}}.
Nested blocks stay lists (one entry per block). usage: hcl_to_json.py FILE.tf
"""
import json
import sys

import hcl2


def unquote(s):
    if isinstance(s, str) and len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        return s[1:-1].replace('\\"', '"').replace("$${", "${")
    return s


def clean(v):
    if isinstance(v, dict):
        return {unquote(k): clean(x) for k, x in v.items() if not k.startswith("__")}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return unquote(v)


doc = hcl2.load(open(sys.argv[1]))
out = {}
for kind, blocks in doc.items():
    if kind.startswith("__"):
        continue
    merged = out.setdefault(kind, {})
    for block in blocks:
        block = clean(block)
        if kind == "resource":
            for rtype, named in block.items():
                merged.setdefault(rtype, {}).update(named)
        else:
            merged.update(block)
print(json.dumps(out))
