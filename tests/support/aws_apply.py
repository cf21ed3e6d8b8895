"""Apply scaletop's emitted AWS requests to an AWS API (moto_server in the tests) the way
aws/apply.sh does, then read every object back and compare it with the request.

usage: aws_apply.py ENDPOINT DIR...   (each DIR holds an emitted aws/apply.sh)
Prints one JSON line {"applied": N, "checked": M}; exits 1 naming each mismatch.
"""
import json
import re
import sys

import boto3

ENDPOINT = sys.argv[1]
KW = dict(endpoint_url=ENDPOINT, region_name="us-east-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
clients = {
    "autoscaling": boto3.client("autoscaling", **KW),
    "cloudwatch": boto3.client("cloudwatch", **KW),
    "application-autoscaling": boto3.client("application-autoscaling", **KW),
    "lambda": boto3.client("lambda", **KW),
}
mismatches = []
checked = 0
applied = 0
# Request fields moto 5.2 accepts but does not store (verified by hand against moto_server
# 5.2.5: describe answers CapacityRebalance False and no DefaultInstanceWarmup). Reported,
# not compared.
NOT_STORED = {("update-auto-scaling-group", "CapacityRebalance"),
              ("update-auto-scaling-group", "DefaultInstanceWarmup")}
not_stored = []


def same(want, got, path):
    """Every field of the request is in the answer with the same value."""
    global checked
    if isinstance(want, dict):
        if not isinstance(got, dict):
            mismatches.append(f"{path}: expected an object, got {got!r}")
            return
        for k, v in want.items():
            if k not in got:
                mismatches.append(f"{path}.{k}: missing in the answer")
            else:
                same(v, got[k], f"{path}.{k}")
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            mismatches.append(f"{path}: expected {want!r}, got {got!r}")
            return
        for i, (w, g) in enumerate(zip(want, got)):
            same(w, g, f"{path}[{i}]")
    elif isinstance(want, (int, float)) and not isinstance(want, bool):
        if not isinstance(got, (int, float)) or abs(float(want) - float(got)) > 1e-9:
            mismatches.append(f"{path}: expected {want!r}, got {got!r}")
        else:
            checked += 1
    else:
        if want != got:
            mismatches.append(f"{path}: expected {want!r}, got {got!r}")
        else:
            checked += 1


def policy_arn(group, name):
    for p in clients["autoscaling"].describe_policies(AutoScalingGroupName=group)["ScalingPolicies"]:
        if p["PolicyName"] == name:
            return p["PolicyARN"]
    raise SystemExit(f"policy {name} not found after put")


def read_back(service, op, body):
    a = clients["autoscaling"]
    if (service, op) == ("autoscaling", "update-auto-scaling-group"):
        g = a.describe_auto_scaling_groups(AutoScalingGroupNames=[body["AutoScalingGroupName"]])
        return g["AutoScalingGroups"][0]
    if (service, op) == ("autoscaling", "put-scaling-policy"):
        ps = a.describe_policies(AutoScalingGroupName=body["AutoScalingGroupName"],
                                 PolicyNames=[body["PolicyName"]])["ScalingPolicies"]
        return ps[0] if ps else {}
    if (service, op) == ("autoscaling", "put-scheduled-update-group-action"):
        s = a.describe_scheduled_actions(AutoScalingGroupName=body["AutoScalingGroupName"],
                                         ScheduledActionNames=[body["ScheduledActionName"]])
        return s["ScheduledUpdateGroupActions"][0]
    if (service, op) == ("autoscaling", "put-warm-pool"):
        w = a.describe_warm_pool(AutoScalingGroupName=body["AutoScalingGroupName"])
        config = dict(w["WarmPoolConfiguration"])
        config["AutoScalingGroupName"] = body["AutoScalingGroupName"]
        return config
    if (service, op) == ("cloudwatch", "put-metric-alarm"):
        return clients["cloudwatch"].describe_alarms(AlarmNames=[body["AlarmName"]])["MetricAlarms"][0]
    if (service, op) == ("lambda", "put-function-concurrency"):
        c = clients["lambda"].get_function_concurrency(FunctionName=body["FunctionName"])
        return {"FunctionName": body["FunctionName"],
                "ReservedConcurrentExecutions": c["ReservedConcurrentExecutions"]}
    if (service, op) == ("lambda", "update-function-configuration"):
        return clients["lambda"].get_function_configuration(FunctionName=body["FunctionName"])
    aas = clients["application-autoscaling"]
    if (service, op) == ("application-autoscaling", "register-scalable-target"):
        t = aas.describe_scalable_targets(ServiceNamespace=body["ServiceNamespace"],
                                          ResourceIds=[body["ResourceId"]],
                                          ScalableDimension=body["ScalableDimension"])
        return t["ScalableTargets"][0]
    if (service, op) == ("application-autoscaling", "put-scaling-policy"):
        p = aas.describe_scaling_policies(ServiceNamespace=body["ServiceNamespace"],
                                          ResourceId=body["ResourceId"],
                                          ScalableDimension=body["ScalableDimension"],
                                          PolicyNames=[body["PolicyName"]])
        return p["ScalingPolicies"][0]
    if (service, op) == ("application-autoscaling", "put-scheduled-action"):
        s = aas.describe_scheduled_actions(ServiceNamespace=body["ServiceNamespace"],
                                           ResourceId=body["ResourceId"],
                                           ScalableDimension=body["ScalableDimension"],
                                           ScheduledActionNames=[body["ScheduledActionName"]])
        return s["ScheduledActions"][0]
    raise SystemExit(f"no read-back for {service} {op}")


LINE = re.compile(r'^(?:(\w+)=\$\()?aws ([\w-]+) ([\w-]+) --cli-input-json file://(\S+?)(?: --query \S+ --output text\))?(?: --alarm-actions "\$(\w+)")?$')

for d in sys.argv[2:]:
    arns = {}
    for line in open(f"{d}/aws/apply.sh"):
        line = line.strip()
        if not line.startswith(("aws ", "ARN_")):
            continue
        m = LINE.match(line)
        if not m:
            raise SystemExit(f"{d}/aws/apply.sh: cannot read line {line!r}")
        var, service, op, file, alarm_var = m.groups()
        body = json.load(open(f"{d}/aws/{file}"))
        call = dict(body)
        if alarm_var:
            call["AlarmActions"] = [arns[alarm_var]]
        getattr(clients[service], op.replace("-", "_"))(**call)
        applied += 1
        if var:
            arns[var] = policy_arn(body["AutoScalingGroupName"], body["PolicyName"])
        compared = {k: v for k, v in call.items() if (op, k) not in NOT_STORED}
        not_stored += [f"{file}:{k}" for k in call if (op, k) in NOT_STORED]
        same(compared, read_back(service, op, body), f"{file}")

print(json.dumps({"applied": applied, "checked": checked, "not_stored_by_emulator": not_stored}))
if mismatches:
    print("\n".join(mismatches), file=sys.stderr)
    sys.exit(1)
