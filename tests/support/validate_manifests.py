"""Validate Kubernetes manifests with real validators.

usage: validate_manifests.py k8s VERSION FILE...          (kubernetes-validate, strict)
       validate_manifests.py crd SCHEMA.json FILE...       (jsonschema against a CRD's
                                                           openAPIV3Schema, plus strict
                                                           unknown-field check)
Prints one line per file; exits 1 when any file is invalid.
"""
import json
import sys

import yaml

mode, ref, files = sys.argv[1], sys.argv[2], sys.argv[3:]
failed = False


def unknown_fields(schema, value, path):
    """Fields the API server would prune (kubectl --validate=strict reports them)."""
    out = []
    if isinstance(value, dict):
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return out
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for k, v in value.items():
            if props is not None and k in props:
                out += unknown_fields(props[k], v, f"{path}.{k}")
            elif isinstance(extra, dict):
                out += unknown_fields(extra, v, f"{path}.{k}")
            elif props is not None:
                out.append(f"{path}.{k}")
    elif isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            out += unknown_fields(schema["items"], v, f"{path}[{i}]")
    return out


if mode == "k8s":
    import kubernetes_validate
    for f in files:
        for doc in yaml.safe_load_all(open(f)):
            try:
                kubernetes_validate.validate(doc, ref, strict=True)
                print(f"{f}: valid ({doc['kind']}, Kubernetes {ref})")
            except kubernetes_validate.utils.ValidationError as e:
                failed = True
                print(f"{f}: INVALID: {e.message} at {list(e.path)}")
elif mode == "crd":
    import jsonschema
    schema = json.load(open(ref))
    validator = jsonschema.Draft7Validator(schema)
    for f in files:
        for doc in yaml.safe_load_all(open(f)):
            errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]
            errors += [f"unknown field {u}" for u in unknown_fields(schema, doc, "")]
            if errors:
                failed = True
                print(f"{f}: INVALID: " + "; ".join(errors))
            else:
                print(f"{f}: valid ({doc['kind']})")
else:
    raise SystemExit(f"unknown mode {mode}")
sys.exit(1 if failed else 0)
