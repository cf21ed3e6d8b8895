"""An in-memory Kubernetes API (PyPI kmock) on 127.0.0.1 for tests/k8s_source.rs.

Usage: kmock_server.py [--forbid GROUP/VERSION/PLURAL]... [--serve GROUP/VERSION/PLURAL=Kind]...
Prints "PORT <n>" once listening; then objects are created over plain HTTP (POST), as with a
real API server. Stops when stdin closes (the test drops its handle).

kmock does not validate, run controllers or set metadata.resourceVersion: fixtures carry the
resourceVersion a real server would set. A resource is "served" once declared (--serve) or once
an object of it exists; others answer 404 like an API version the cluster does not serve.
--forbid answers 403 in the shape kube-apiserver uses for an RBAC denial.
"""
import argparse
import asyncio
import sys

import kmock


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forbid", action="append", default=[])
    parser.add_argument("--serve", action="append", default=[])
    args = parser.parse_args()

    async with kmock.KubernetesEmulator() as k8s, kmock.Server(k8s) as server:
        for spec in args.serve:
            res, kind = spec.split("=", 1)
            k8s.resources[res].kind = kind
            k8s.resources[res].namespaced = True
            k8s.resources[res].verbs = {"list", "watch", "get", "create"}
        for res in args.forbid:
            group_version, plural = res.rsplit("/", 1)
            group = group_version.split("/")[0] if "/" in group_version else ""
            k8s[kmock.resource(res)] << kmock.KubernetesError(
                status=403,
                reason="Forbidden",
                message=(
                    f'{plural}.{group} is forbidden: User "system:serviceaccount:monitoring:scaletop" '
                    f'cannot list resource "{plural}" in API group "{group}" at the cluster scope'
                ),
            )
        print(f"PORT {server.port}", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main())
