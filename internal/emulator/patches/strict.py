# The strict layer: makes moto follow the AWS rules the provider depends on.
#
# Loaded by sitecustomize.py unless CLONE_EMULATOR_STRICT is "off". moto
# enforces none of these rules, so code that only works because moto is
# lenient passes against plain moto and fails on AWS. Each rule below cites
# the AWS page that states it. Every duration is AWS's own, multiplied by
# CLONE_EMULATOR_TIME_SCALE (1 = AWS timing; tests use less).
#
# Time is lazy: due transitions (pending -> running, Pending:Wait timeouts,
# drains ending, ...) are applied before every request, under one lock that
# serialises the emulator, so what a caller sees is always up to date.
#
# What happened is recorded as events (GET /moto-api/clone/events), so tests
# can check, for example, that no instance was terminated while a load
# balancer still drained it. The clone stand-in (POST /moto-api/clone/stand-in)
# plays the sync agent of a clone: it completes the launch lifecycle action of
# instances whose user data carries the agent.

import base64
import email
import gzip
import json
import os
import threading
import time

SCALE = float(os.environ.get("CLONE_EMULATOR_TIME_SCALE") or "1") or 1.0

# AWS's durations, before scaling.
INSTANCE_PENDING_SECONDS = 10  # EC2 reports pending, then running.
IMAGE_PENDING_SECONDS = 20  # CreateImage reports pending, then available.
CONSISTENCY_SECONDS = 5  # a new id may be unknown to Describe calls.
STAND_IN_DEFAULT = {"result": "CONTINUE", "delay_seconds": 5}

USER_DATA_LIMIT = 16384
LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
LIVE = ("Pending", "Pending:Wait", "Pending:Proceed", "InService")
AGENT_MARKER = b"CS_LIFECYCLE_HOOK_NAME"

LOCK = threading.RLock()
MAX_EVENTS = 200000


class State:
    def __init__(self):
        self.reset()

    def reset(self):
        self.events = []
        self.stand_in = {}  # group name ("" = default) -> rule
        self.pending_instances = {}  # id -> due
        self.pending_images = {}  # id -> due
        self.created = {}  # id -> time
        self.launches = {}  # instance id -> {group, hooks, agent}
        self.hook_waits = {}  # instance id -> {group, hook, deadline, default, timeout, stand_in_due, stand_in_result}
        self.tg_registered = {}  # (arn, id) -> time
        self.tg_draining = {}  # (arn, id) -> {until, target}
        self.elb_registered = {}  # (name, id) -> time
        self.elb_draining = {}  # (name, id) -> until
        self.terminating = {}  # instance id -> (group, due)


S = State()


def now():
    return time.time()


def scaled(seconds):
    return float(seconds) * SCALE


def event(kind, **fields):
    if len(S.events) >= MAX_EVENTS:
        del S.events[: MAX_EVENTS // 10]
    e = {"time": now(), "kind": kind}
    e.update({k: v for k, v in fields.items() if v not in (None, "", False)})
    S.events.append(e)


class StrictError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def error_response(service, err):
    from xml.sax.saxutils import escape

    if service == "ssm":
        headers = {"status": err.status, "Content-Type": "application/x-amz-json-1.1", "X-Amzn-ErrorType": err.code}
        return err.status, headers, json.dumps({"__type": err.code, "message": err.message})
    headers = {"status": err.status, "Content-Type": "text/xml"}
    if service == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code>'
            "<Message>%s</Message></Error></Errors><RequestID>strict-layer</RequestID></Response>"
        )
    else:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type>'
            "<Code>%s</Code><Message>%s</Message></Error><RequestId>strict-layer</RequestId></ErrorResponse>"
        )
    return err.status, headers, body % (escape(err.code), escape(err.message))


# --- request parameters ------------------------------------------------------


def query(resp):
    qs = getattr(resp, "querystring", None) or {}
    return {k: (v[0] if isinstance(v, list) and v else v) for k, v in qs.items()}


def members(params, prefix):
    """Values of a Query-protocol list: prefix.1, prefix.2, ... (or prefix.member.N)."""
    out = []
    for k, v in params.items():
        rest = k[len(prefix) + 1 :] if k.startswith(prefix + ".") else None
        if rest is None:
            continue
        if rest.startswith("member."):
            rest = rest[len("member.") :]
        if rest.isdigit():
            out.append(v)
    return out


def decoded_user_data(value):
    if value is None:
        return b""
    if hasattr(value, "as_bytes"):  # moto's Base64EncodedString
        value = value.as_bytes()
    if isinstance(value, bytes):
        raw = value
    else:
        raw = value.encode()
    try:
        return base64.b64decode(raw, validate=False)
    except Exception:
        return raw


# --- rules checked on the request ---------------------------------------------
# Each check takes the request parameters and raises StrictError.


def rule_user_data_size(params, key):
    # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html
    # "User data is limited to 16 KB, in raw form, before it is base64-encoded."
    data = params.get(key)
    if data is None:
        return
    size = len(decoded_user_data(data))
    if size > USER_DATA_LIMIT:
        raise StrictError(
            "InvalidParameterValue",
            "User data is limited to %d bytes; this request carries %d bytes decoded" % (USER_DATA_LIMIT, size),
        )


def rule_max_ids(params, prefix, limit, action):
    # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DetachInstances.html (InstanceIds: max 20)
    # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SetInstanceProtection.html (InstanceIds: max 50)
    # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_AttachLoadBalancerTargetGroups.html and
    # API_DetachLoadBalancerTargetGroups.html (TargetGroupARNs: "You can specify up to 10 target groups"),
    # API_AttachLoadBalancers.html and API_DetachLoadBalancers.html (LoadBalancerNames: up to 10)
    n = len(members(params, prefix))
    if n > limit:
        raise StrictError(
            "ValidationError",
            "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d (%s got %d)"
            % (prefix[0].lower() + prefix[1:], limit, action, n),
        )


def rule_describe_instances(params):
    # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
    # MaxResults 5-1000, and not together with InstanceIds; at most 200 filter values.
    mr = params.get("MaxResults")
    ids = members(params, "InstanceId")
    if mr is not None:
        if ids:
            raise StrictError("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
        if not (5 <= int(mr) <= 1000):
            raise StrictError("InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000." % mr)
    rule_filter_values(params)
    rule_fresh_ids(ids, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist")


def rule_filter_values(params):
    # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests-EC2.html#query-filtering
    # (and each Describe* page: "the maximum number of values per filter is 200")
    n = sum(1 for k in params if k.startswith("Filter.") and ".Value." in k)
    if n > 200:
        raise StrictError("FilterLimitExceeded", "The maximum number of filter values specified on a single call is 200 (got %d)" % n)


def rule_fresh_ids(ids, code, message):
    # https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html
    # "a resource that you just created may not be visible to Describe calls yet".
    window = scaled(CONSISTENCY_SECONDS)
    t = now()
    for i in ids:
        created = S.created.get(i)
        if created is not None and t - created < window:
            raise StrictError(code, message % i)


def rule_target_group_name(params):
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
    # Name: at most 32 characters, alphanumerics and hyphens, not starting or ending with a hyphen.
    name = params.get("Name") or ""
    if len(name) > 32:
        raise StrictError("ValidationError", "Target group name '%s' cannot be longer than '32' characters" % name)
    if name.startswith("-") or name.endswith("-") or not all(c.isalnum() or c == "-" for c in name):
        raise StrictError("ValidationError", "Target group name '%s' can only contain characters that are alphanumeric characters or hyphens(-) and cannot begin or end with a hyphen" % name)


def rule_tag_count(n, code, what):
    # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions
    # https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-tagging.html
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-tags.html
    # "Maximum number of tags per resource: 50".
    if n > 50:
        raise StrictError(code, "%s would have %d tags; the limit is 50 per resource" % (what, n))


def tag_spec_counts(params):
    counts = {}
    for k in params:
        # TagSpecification.1.Tag.3.Key
        parts = k.split(".")
        if len(parts) == 5 and parts[0] == "TagSpecification" and parts[2] == "Tag" and parts[4] == "Key":
            counts[parts[1]] = counts.get(parts[1], 0) + 1
        # LaunchTemplateData.TagSpecification.1.Tag.3.Key
        if len(parts) == 6 and parts[0] == "LaunchTemplateData" and parts[1] == "TagSpecification" and parts[5] == "Key":
            counts["lt" + parts[2]] = counts.get("lt" + parts[2], 0) + 1
    return counts


def rule_ec2_tags(resp, params, action):
    for n in tag_spec_counts(params).values():
        rule_tag_count(n, "TagLimitExceeded", action)
    if action == "CreateTags":
        from moto.ec2.models import ec2_backends

        backend = ec2_backends[resp.current_account][resp.region]
        new = {params[k] for k in params if k.startswith("Tag.") and k.endswith(".Key")}
        for rid in members(params, "ResourceId"):
            existing = set(backend.tags.get(rid, {}).keys())
            rule_tag_count(len(existing | new), "TagLimitExceeded", rid)


def rule_rule_conditions(params):
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
    # "Condition values per rule: 5".
    n = sum(1 for k in params if k.startswith("Conditions.member.") and ".Values.member." in k)
    if n > 5:
        raise StrictError("TooManyConditionValues", "A rule can only have '5' condition values; this request has %d" % n)


def rule_ssm_parameter_size(body):
    # https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html
    # Standard tier: 4 KB; Advanced tier: 8 KB.
    value = body.get("Value") or ""
    tier = body.get("Tier") or "Standard"
    limit = 8192 if tier == "Advanced" else 4096
    if tier == "Intelligent-Tiering":
        limit = 8192
    size = len(value.encode())
    if size > limit:
        raise StrictError(
            "ValidationException",
            "%s tier parameters support a maximum parameter value of %d characters; %s has %d"
            % (tier, limit, body.get("Name"), size),
        )


RECOVER_FAMILIES = (
    "a1", "c3", "c4", "c5", "c5a", "c5n", "c6a", "c6g", "c6gn", "c6i", "c6in", "c7a", "c7g", "c7i",
    "inf1", "m3", "m4", "m5", "m5a", "m5n", "m5zn", "m6a", "m6g", "m6i", "m6in", "m7a", "m7g", "m7i",
    "p3", "r3", "r4", "r5", "r5a", "r5b", "r5n", "r6a", "r6g", "r6i", "r6in", "r7a", "r7g", "r7i",
    "t2", "t3", "t3a", "t4g", "x1", "x1e", "x2iezn",
)


def rule_recover_action(params, region):
    # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/UsingAlarmActions.html#AddingRecoverActions
    # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-recover.html (supported instance types)
    actions = members(params, "AlarmActions")
    if not any(a.endswith(":ec2:recover") for a in actions):
        return
    dims = {}
    for k, v in params.items():
        if k.startswith("Dimensions.member.") and k.endswith(".Name"):
            dims[v] = params.get(k[: -len(".Name")] + ".Value")
    iid = dims.get("InstanceId")
    if not iid:
        raise StrictError("ValidationError", "The EC2 recover action requires the InstanceId dimension")
    from moto.ec2.models import ec2_backends

    for backend in ec2_backends.values():
        b = backend.get(region)
        if b is None:
            continue
        inst = b.get_instance_by_id(iid)
        if inst is None:
            continue
        family = inst.instance_type.split(".")[0]
        if family not in RECOVER_FAMILIES:
            # AWS's refusal names neither the instance nor its type (the
            # operators' report behind issue 10): the caller must.
            raise StrictError(
                "ValidationError",
                "Unsupported action %s: the EC2 recover action is not supported for this instance"
                % next(a for a in actions if a.endswith(":ec2:recover")),
            )


def check_request(resp, service, action):
    if service == "ssm":
        if action == "PutParameter":
            try:
                body = json.loads(resp.body or "{}")
            except ValueError:
                body = {}
            rule_ssm_parameter_size(body)
        return
    p = query(resp)
    if service == "ec2":
        if action in ("CreateLaunchTemplate", "CreateLaunchTemplateVersion"):
            rule_user_data_size(p, "LaunchTemplateData.UserData")
        elif action == "RunInstances":
            rule_user_data_size(p, "UserData")
        elif action == "DescribeInstances":
            rule_describe_instances(p)
        elif action == "TerminateInstances":
            # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TerminateInstances.html
            # "Constraints: Up to 1000 instance IDs."
            n = len(members(p, "InstanceId"))
            if n > 1000:
                raise StrictError("InvalidParameterValue", "TerminateInstances takes up to 1000 instance IDs; this request has %d" % n)
        elif action == "DescribeImages":
            rule_filter_values(p)
            rule_fresh_ids(members(p, "ImageId"), "InvalidAMIID.NotFound", "The image id '[%s]' does not exist")
        if action in ("CreateTags", "RunInstances", "CreateLaunchTemplate", "CreateLaunchTemplateVersion", "CreateImage", "CreateSecurityGroup", "CreateVpc", "CreateSubnet"):
            rule_ec2_tags(resp, p, action)
    elif service == "autoscaling":
        if action == "DetachInstances":
            rule_max_ids(p, "InstanceIds", 20, action)
        elif action == "SetInstanceProtection":
            rule_max_ids(p, "InstanceIds", 50, action)
        elif action in ("AttachLoadBalancerTargetGroups", "DetachLoadBalancerTargetGroups"):
            rule_max_ids(p, "TargetGroupARNs", 10, action)
        elif action in ("AttachLoadBalancers", "DetachLoadBalancers"):
            rule_max_ids(p, "LoadBalancerNames", 10, action)
        elif action == "CreateAutoScalingGroup":
            rule_tag_count(len([k for k in p if k.startswith("Tags.member.") and k.endswith(".Key")]), "LimitExceeded", p.get("AutoScalingGroupName"))
        elif action == "CreateOrUpdateTags":
            rule_asg_tags(p)
        elif action == "DescribeAutoScalingGroups":
            mr = p.get("MaxRecords")
            if mr is not None and not (1 <= int(mr) <= 100):
                raise StrictError("ValidationError", "MaxRecords must be between 1 and 100, got %s" % mr)
    elif service == "elbv2":
        if action == "CreateTargetGroup":
            rule_target_group_name(p)
            rule_tag_count(len([k for k in p if k.startswith("Tags.member.") and k.endswith(".Key")]), "TooManyTags", p.get("Name"))
        elif action in ("CreateRule", "ModifyRule"):
            rule_rule_conditions(p)
    elif service == "cloudwatch":
        if action == "PutMetricAlarm":
            rule_recover_action(p, resp.region)


def rule_asg_tags(p):
    from moto.autoscaling.models import autoscaling_backends

    new = {}
    for k, v in p.items():
        if k.startswith("Tags.member.") and k.endswith(".ResourceId"):
            key = p.get(k[: -len(".ResourceId")] + ".Key")
            new.setdefault(v, set()).add(key)
    for group, keys in new.items():
        existing = set()
        for acct in autoscaling_backends.values():
            for b in acct.values():
                g = b.autoscaling_groups.get(group)
                if g is not None:
                    existing |= {t["Key"] for t in g.tags}
        rule_tag_count(len(existing | keys), "LimitExceeded", group)


# --- the clone stand-in -------------------------------------------------------


def carries_agent(user_data):
    """Whether user data (base64, maybe gzip, maybe MIME) carries the sync agent."""
    raw = decoded_user_data(user_data if not isinstance(user_data, (list, tuple)) else (user_data[0] if user_data else None))
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except Exception:
            return False
    if AGENT_MARKER in raw:
        return True
    try:
        msg = email.message_from_bytes(raw)
        for part in msg.walk():
            payload = part.get_payload(decode=True)
            if payload and AGENT_MARKER in payload:
                return True
    except Exception:
        pass
    return False


def stand_in_rule(group):
    return S.stand_in.get(group) or S.stand_in.get("") or STAND_IN_DEFAULT


# --- Auto Scaling: lifecycle hooks, scale-in, termination ---------------------
# https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-lifecycle.html
# https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html
# A launched instance is Pending; with a launch hook it waits in Pending:Wait
# until CompleteLifecycleAction or the heartbeat timeout (then DefaultResult:
# ABANDON terminates it). Only then is it InService and registered with the
# group's load balancers.
# https://docs.aws.amazon.com/autoscaling/ec2/userguide/attach-load-balancer-asg.html
# On scale-in and termination the group deregisters the instance and waits
# for the deregistration delay / connection draining before terminating.


def asg_backend_of(group):
    return group.autoscaling_backend


def launch_hooks(backend, group_name):
    return [
        h
        for h in backend.lifecycle_hooks.values()
        if h.auto_scaling_group_name == group_name and h.lifecycle_transition == LAUNCHING
    ]


def find_state(backend, instance_id):
    for g in backend.autoscaling_groups.values():
        for s in g.instance_states:
            if s.instance.id == instance_id:
                return g, s
    return None, None


def go_in_service(group, state):
    state.lifecycle_state = "InService"
    iid = state.instance.id
    S.launches.pop(iid, None)
    S.hook_waits.pop(iid, None)
    event("in_service", instance=iid, group=group.name)
    backend = asg_backend_of(group)
    if group.name in backend.autoscaling_groups:
        register_group_member(backend, group, iid)


def register_group_member(backend, group, iid):
    for arn in list(group.target_group_arns):
        tg = backend.elbv2_backend.target_groups.get(arn)
        if tg is not None and iid not in tg.targets:
            tg.register([{"Id": iid, "Port": tg.port}])
    for name in list(group.load_balancer_names):
        lb = backend.elb_backend.load_balancers.get(name)
        if lb is not None and iid not in lb.instance_ids:
            backend.elb_backend.register_instances(name, [iid], from_autoscaling=True)


def deregister_everywhere(backend, group, iid):
    """Deregister iid from the group's load balancers; return when draining ends."""
    until = now()
    for arn in list(group.target_group_arns):
        tg = backend.elbv2_backend.target_groups.get(arn)
        if tg is not None and iid in tg.targets:
            tg.deregister([{"Id": iid}])
        d = S.tg_draining.get((arn, iid))
        if d:
            until = max(until, d["until"])
    for name in list(group.load_balancer_names):
        lb = backend.elb_backend.load_balancers.get(name)
        if lb is not None and iid in lb.instance_ids:
            backend.elb_backend.deregister_instances(name, [iid], from_autoscaling=True)
        until = max(until, S.elb_draining.get((name, iid), 0))
    return until


def begin_terminate(group, state, why):
    backend = asg_backend_of(group)
    iid = state.instance.id
    state.lifecycle_state = "Terminating"
    S.launches.pop(iid, None)
    S.hook_waits.pop(iid, None)
    until = deregister_everywhere(backend, group, iid)
    S.terminating[iid] = (group, until)
    event("terminating", instance=iid, group=group.name, detail=why, drain_until=until)


def finish_terminate(group, iid):
    group.instance_states = [s for s in group.instance_states if s.instance.id != iid]
    backend = asg_backend_of(group)
    try:
        backend.ec2_backend.terminate_instances([iid])
    except Exception:
        pass


def victims(group, live, n):
    def version(s):
        v = s.instance.tags.get("aws:ec2launchtemplate:version") if hasattr(s.instance, "tags") else None
        try:
            return int(v)
        except (TypeError, ValueError):
            return 0

    candidates = [s for s in live if not s.protected_from_scale_in]
    policies = list(group.termination_policies or ["Default"])
    if "NewestInstance" in policies[:1]:
        key = lambda s: (-s.instance.launch_time_as_datetime().timestamp() if hasattr(s.instance, "launch_time_as_datetime") else 0)
    else:
        key = lambda s: (version(s), getattr(s.instance, "launch_time", ""))
    return sorted(candidates, key=key)[:n]


def install_autoscaling():
    from moto.autoscaling import models as m
    from moto.autoscaling import responses as r
    from moto.core.responses import EmptyResult

    G = m.FakeAutoScalingGroup
    B = m.AutoScalingBackend

    def active_instances(self):
        return [s for s in self.instance_states if s.lifecycle_state in LIVE]

    G.active_instances = active_instances

    orig_replace = G.replace_autoscaling_group_instances

    def replace_autoscaling_group_instances(self, count_needed, propagated_tags):
        before = {id(s) for s in self.instance_states}
        orig_replace(self, count_needed, propagated_tags)
        backend = asg_backend_of(self)
        hooks = [(h.name, h.heartbeat_timeout, h.default_result) for h in launch_hooks(backend, self.name)]
        for s in self.instance_states:
            if id(s) in before:
                continue
            s.lifecycle_state = "Pending"
            agent = carries_agent(s.instance.user_data)
            S.launches[s.instance.id] = {"group": self.name, "hooks": hooks, "agent": agent}
            event("launch", instance=s.instance.id, group=self.name, hooked=bool(hooks), agent=agent)

    G.replace_autoscaling_group_instances = replace_autoscaling_group_instances

    orig_set_desired = G.set_desired_capacity

    def set_desired_capacity(self, new_capacity):
        desired = self.min_size if new_capacity is None else new_capacity
        live = self.active_instances()
        excess = len(live) - (desired or 0)
        if excess > 0:
            self.desired_capacity = desired
            for s in victims(self, live, excess):
                begin_terminate(self, s, "scale-in")
            return
        orig_set_desired(self, new_capacity)

    G.set_desired_capacity = set_desired_capacity

    # Auto Scaling registers an instance in the group's load balancers when
    # it enters InService (go_in_service), and every InService instance in a
    # load balancer when that load balancer is attached. It does not register
    # anything on a capacity change: moto re-registers every InService member
    # on each one (UpdateAutoScalingGroup, DetachInstances), which put back
    # clones deregistered to drain before they leave the group.
    # https://docs.aws.amazon.com/autoscaling/ec2/userguide/attach-load-balancer-asg.html
    def update_attached_elbs(self, group_name):
        return None

    B.update_attached_elbs = update_attached_elbs
    B.update_attached_target_groups = update_attached_elbs

    orig_attach_lbs = B.attach_load_balancers
    orig_attach_tgs = B.attach_load_balancer_target_groups

    def in_service(group):
        return [s.instance.id for s in group.instance_states if s.lifecycle_state == "InService"]

    def attach_load_balancers(self, group_name, load_balancer_names):
        orig_attach_lbs(self, group_name, load_balancer_names)
        ids = in_service(self.autoscaling_groups[group_name])
        for name in load_balancer_names:
            lb = self.elb_backend.load_balancers.get(name)
            new = [i for i in ids if lb is not None and i not in lb.instance_ids]
            if new:
                self.elb_backend.register_instances(name, new, from_autoscaling=True)

    def attach_load_balancer_target_groups(self, group_name, target_group_arns):
        orig_attach_tgs(self, group_name, target_group_arns)
        ids = in_service(self.autoscaling_groups[group_name])
        for arn in target_group_arns:
            tg = self.elbv2_backend.target_groups.get(arn)
            if tg is not None:
                tg.register([{"Id": i, "Port": tg.port} for i in ids if i not in tg.targets])

    B.attach_load_balancers = attach_load_balancers
    B.attach_load_balancer_target_groups = attach_load_balancer_target_groups

    def terminate_instance(self, instance_id, should_decrement):
        group, state = find_state(self, instance_id)
        if state is None:
            from moto.autoscaling.exceptions import ValidationError

            raise ValidationError("Instance Id not found - No managed instance found for instance ID: %s" % instance_id)
        original_size = group.desired_capacity
        if state.lifecycle_state not in LIVE:
            return m.TerminateInstanceActivity(state.instance, original_size)
        if should_decrement and (group.desired_capacity or 0) <= (group.min_size or 0):
            from moto.autoscaling.exceptions import ValidationError

            # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_TerminateInstanceInAutoScalingGroup.html
            raise ValidationError(
                "Currently, desiredCapacity (%s) is less than or equal to MinSize (%s). Terminating instance %s without replacement will violate group's min size constraint."
                % (group.desired_capacity, group.min_size, instance_id)
            )
        begin_terminate(group, state, "TerminateInstanceInAutoScalingGroup")
        if should_decrement:
            group.desired_capacity -= 1
        else:
            group.replace_autoscaling_group_instances(1, group.get_propagated_tags())
        return m.TerminateInstanceActivity(state.instance, original_size)

    B.terminate_instance = terminate_instance

    orig_detach = B.detach_instances

    def detach_instances(self, group_name, instance_ids, should_decrement):
        group = self.autoscaling_groups[group_name]
        for s in group.instance_states:
            if s.instance.id in instance_ids:
                deregister_everywhere(self, group, s.instance.id)
                S.launches.pop(s.instance.id, None)
                S.hook_waits.pop(s.instance.id, None)
        return orig_detach(self, group_name, instance_ids, should_decrement)

    B.detach_instances = detach_instances

    def detach_load_balancer_target_groups(self, group_name, target_group_arns):
        # https://docs.aws.amazon.com/autoscaling/ec2/userguide/attach-load-balancer-asg.html
        # Detaching deregisters the group's registered instances: they drain.
        group = self.autoscaling_groups[group_name]
        group.target_group_arns = [x for x in group.target_group_arns if x not in target_group_arns]
        for arn in target_group_arns:
            tg = self.elbv2_backend.target_groups.get(arn)
            if tg is None:
                continue
            ids = [s.instance.id for s in group.instance_states if s.instance.id in tg.targets]
            if ids:
                tg.deregister([{"Id": i} for i in ids])

    B.detach_load_balancer_target_groups = detach_load_balancer_target_groups

    orig_delete_group = B.delete_auto_scaling_group

    def delete_auto_scaling_group(self, group_name):
        orig_delete_group(self, group_name)
        # Deleting a group deletes its lifecycle hooks.
        for key, h in list(self.lifecycle_hooks.items()):
            if h.auto_scaling_group_name == group_name:
                del self.lifecycle_hooks[key]

    B.delete_auto_scaling_group = delete_auto_scaling_group

    orig_delete_response = r.AutoScalingResponse.delete_auto_scaling_group

    def delete_group_response(self):
        # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DeleteAutoScalingGroup.html
        name = self._get_param("AutoScalingGroupName")
        force = self._get_bool_param("ForceDelete", False)
        group = self.autoscaling_backend.autoscaling_groups.get(name)
        if group is not None and not force and group.active_instances():
            raise StrictError(
                "ResourceInUse",
                "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group (%s)." % name,
            )
        return orig_delete_response(self)

    r.AutoScalingResponse.delete_auto_scaling_group = delete_group_response

    def complete_lifecycle_action(self):
        # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CompleteLifecycleAction.html
        iid = self._get_param("InstanceId")
        hook = self._get_param("LifecycleHookName")
        group_name = self._get_param("AutoScalingGroupName")
        result = self._get_param("LifecycleActionResult")
        if result not in ("CONTINUE", "ABANDON"):
            raise StrictError("ValidationError", "LifecycleActionResult must be CONTINUE or ABANDON, got %s" % result)
        w = S.hook_waits.get(iid)
        if w is None or w["group"] != group_name or w["hook"] != hook:
            raise StrictError("ValidationError", "No active Lifecycle Action found with instance ID %s" % iid)
        complete(self.autoscaling_backend, iid, result, "CompleteLifecycleAction")
        return EmptyResult()

    def record_lifecycle_action_heartbeat(self):
        # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RecordLifecycleActionHeartbeat.html
        iid = self._get_param("InstanceId")
        w = S.hook_waits.get(iid)
        if w is None or w["hook"] != self._get_param("LifecycleHookName"):
            raise StrictError("ValidationError", "No active Lifecycle Action found with instance ID %s" % iid)
        w["deadline"] = now() + scaled(w["timeout"])
        event("heartbeat", instance=iid, group=w["group"])
        return EmptyResult()

    r.AutoScalingResponse.complete_lifecycle_action = complete_lifecycle_action
    r.AutoScalingResponse.record_lifecycle_action_heartbeat = record_lifecycle_action_heartbeat

    # Auto Scaling pages its lists: MaxRecords defaults to 50 and may not
    # exceed 100; a longer list comes with a NextToken. moto pages only
    # DescribeAutoScalingGroups: code that read one page as the whole list
    # would pass here and miss policies or scheduled actions on AWS.
    # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeScheduledActions.html
    # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribePolicies.html
    from moto.core.responses import ActionResult

    def paged(method, key):
        orig = getattr(r.AutoScalingResponse, method)

        def page(self):
            mr = self._get_int_param("MaxRecords") or 50
            if not 1 <= mr <= 100:
                raise StrictError("ValidationError", "MaxRecords must be between 1 and 100, got %d" % mr)
            token = self._get_param("NextToken") or "0"
            if not token.isdigit():
                raise StrictError("InvalidNextToken", "The token '%s' is invalid" % token)
            start = int(token)
            items = orig(self).result[key]
            result = {key: items[start : start + mr]}
            if start + mr < len(items):
                result["NextToken"] = str(start + mr)
            return ActionResult(result)

        setattr(r.AutoScalingResponse, method, page)

    paged("describe_scheduled_actions", "ScheduledUpdateGroupActions")
    paged("describe_policies", "ScalingPolicies")


def complete(backend, iid, result, by):
    w = S.hook_waits.pop(iid, None)
    group, state = find_state(backend, iid)
    event("lifecycle_action", instance=iid, group=w["group"] if w else None, result=result, detail=by)
    if state is None:
        return
    if result == "CONTINUE":
        go_in_service(group, state)
        return
    # ABANDON: the instance is terminated and the group launches another.
    group.instance_states = [s for s in group.instance_states if s.instance.id != iid]
    S.launches.pop(iid, None)
    backend.ec2_backend.terminate_instances([iid])
    if len(group.active_instances()) < (group.desired_capacity or 0):
        group.replace_autoscaling_group_instances(1, group.get_propagated_tags())


# --- ELBv2: deregistration delay and health warm-up ---------------------------
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay
# A deregistered target is `draining` for deregistration_delay.timeout_seconds.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
# A new target is `initial` until it passed HealthyThresholdCount checks,
# HealthCheckIntervalSeconds apart.


def install_elbv2():
    from moto.elbv2 import models as m

    TG = m.FakeTargetGroup

    def register(self, targets):
        for target in targets:
            iid = target["Id"]
            inst = self.ec2_backend.get_instance_by_id(iid)
            if inst is not None and inst.state not in ("pending", "running"):
                raise m.TargetNotRunning(instance_id=iid)
            if iid not in self.targets:
                S.tg_registered[(self.arn, iid)] = now()
            self.targets[iid] = {"Id": iid, "Port": target.get("Port", self.port)}
            self.deregistered_targets.pop(iid, None)
            S.tg_draining.pop((self.arn, iid), None)

    TG.register = register

    def deregister(self, targets):
        for target in targets:
            iid = target["Id"]
            t = self.targets.pop(iid, None)
            if not t:
                if (self.arn, iid) in S.tg_draining:
                    continue
                raise m.InvalidTargetError()
            self.deregistered_targets[iid] = t
            S.tg_registered.pop((self.arn, iid), None)
            delay = int(self.attributes.get("deregistration_delay.timeout_seconds", 300))
            until = now() + scaled(delay)
            S.tg_draining[(self.arn, iid)] = {"until": until, "target": t}
            event("deregister", instance=iid, target=self.arn, drain_until=until)

    TG.deregister = deregister

    orig_health_for = TG.health_for

    def health_for(self, target, ec2_backend):
        iid = target["Id"]
        if iid not in self.targets:
            d = S.tg_draining.get((self.arn, iid))
            if d and d["until"] > now():
                return m.FakeHealthStatus(iid, d["target"].get("Port", self.port), self.health_check_port, "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
            return orig_health_for(self, target, ec2_backend)
        inst = ec2_backend.get_instance_by_id(iid)
        t = self.targets[iid]
        warm = scaled(int(self.healthy_threshold_count) * int(self.health_check_interval_seconds))
        registered = S.tg_registered.get((self.arn, iid), 0)
        if (inst is not None and inst.state == "pending") or now() < registered + warm:
            return m.FakeHealthStatus(iid, t["Port"], self.health_check_port, "initial", "Elb.RegistrationInProgress", "Target registration is in progress")
        return orig_health_for(self, target, ec2_backend)

    TG.health_for = health_for

    B = m.ELBv2Backend

    def describe_target_health(self, target_group_arn, targets):
        tg = self.target_groups.get(target_group_arn)
        if tg is None:
            raise m.TargetGroupNotFoundError()
        if not targets:
            targets = list(tg.targets.values())
            t = now()
            for (arn, iid), d in S.tg_draining.items():
                if arn == target_group_arn and d["until"] > t and iid not in tg.targets:
                    targets.append(d["target"])
        return [tg.health_for(target, self.ec2_backend) for target in targets]

    B.describe_target_health = describe_target_health


# --- Classic ELB: connection draining and health warm-up ----------------------
# https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/config-conn-drain.html
# While draining, DescribeInstanceHealth reports the instance InService with
# "Instance deregistration currently in progress."
# https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-healthchecks.html
# A new instance is OutOfService until HealthyThreshold checks, Interval apart.


def install_elb():
    from moto.elb import models as m
    from moto.elb import responses as r
    from moto.core.responses import ActionResult

    B = m.ELBBackend
    orig_register = B.register_instances
    orig_deregister = B.deregister_instances

    def register_instances(self, load_balancer_name, instance_ids, from_autoscaling=False):
        lb = self.get_load_balancer(load_balancer_name)
        instance_ids = list(instance_ids)
        fresh = [i for i in instance_ids if lb is None or i not in lb.instance_ids]
        out = orig_register(self, load_balancer_name, fresh, from_autoscaling)
        for i in fresh:
            S.elb_registered[(load_balancer_name, i)] = now()
            S.elb_draining.pop((load_balancer_name, i), None)
        return out

    def deregister_instances(self, load_balancer_name, instance_ids, from_autoscaling=False):
        lb = self.get_load_balancer(load_balancer_name)
        instance_ids = list(instance_ids)
        registered = [i for i in instance_ids if lb is not None and i in lb.instance_ids]
        out = orig_deregister(self, load_balancer_name, instance_ids, from_autoscaling)
        cd = (lb.attributes.get("connection_draining") or {}) if lb is not None else {}
        # moto keeps the request's keys (Enabled, Timeout) or its own defaults (enabled, timeout).
        enabled = cd.get("Enabled", cd.get("enabled"))
        timeout = int(cd.get("Timeout", cd.get("timeout", 300))) if enabled in (True, "true", "True") else 0
        for i in registered:
            S.elb_registered.pop((load_balancer_name, i), None)
            until = now() + scaled(timeout)
            S.elb_draining[(load_balancer_name, i)] = until
            event("deregister", instance=i, target="elb/" + load_balancer_name, drain_until=until)
        return out

    B.register_instances = register_instances
    B.deregister_instances = deregister_instances

    def instance_health(self, lb_name, ids):
        lb = self.get_load_balancer(lb_name)
        if lb is None:
            raise m.NoActiveLoadBalancerFoundError(name=lb_name)
        from moto.ec2.models import ec2_backends

        ec2 = ec2_backends[self.account_id][self.region_name]
        t = now()
        if not ids:
            ids = list(lb.instance_ids) + [i for (n, i), u in S.elb_draining.items() if n == lb_name and u > t and i not in lb.instance_ids]
        hc = lb.health_check
        threshold = int(hc.healthy_threshold) if hc is not None else 10
        interval = int(hc.interval) if hc is not None else 30
        out = []
        for i in ids:
            if i in lb.instance_ids:
                inst = ec2.get_instance_by_id(i)
                registered = S.elb_registered.get((lb_name, i), 0)
                if inst is None or inst.state != "running":
                    out.append((i, "OutOfService", "Instance", "Instance is in %s state." % (inst.state if inst else "terminated")))
                elif t < registered + scaled(threshold * interval):
                    out.append((i, "OutOfService", "ELB", "Instance registration is still in progress."))
                else:
                    out.append((i, "InService", "N/A", "N/A"))
            elif S.elb_draining.get((lb_name, i), 0) > t:
                out.append((i, "InService", "N/A", "Instance deregistration currently in progress."))
            else:
                out.append((i, "OutOfService", "Instance", "Instance is not currently registered with the LoadBalancer."))
        return out

    def describe_instance_health(self):
        lb_name = self._get_param("LoadBalancerName")
        ids = [i["InstanceId"] for i in self._get_param("Instances", [])]
        rows = instance_health(self.elb_backend, lb_name, ids)
        return ActionResult(
            {"InstanceStates": [{"InstanceId": i, "State": st, "ReasonCode": rc, "Description": d} for i, st, rc, d in rows]}
        )

    r.ELBResponse.describe_instance_health = describe_instance_health


# --- EC2: pending states, consistency, termination while serving ---------------
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html (pending, then running)
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/creating-an-ami-ebs.html (pending, then available)


def install_ec2():
    from moto.ec2.models import EC2Backend
    from moto.ec2.models.instances import InstanceState

    orig_run = EC2Backend.run_instances

    def run_instances(self, *args, **kwargs):
        res = orig_run(self, *args, **kwargs)
        t = now()
        for inst in res.instances:
            inst._state = InstanceState("pending", 0)
            S.pending_instances[inst.id] = (inst, t + scaled(INSTANCE_PENDING_SECONDS))
            S.created[inst.id] = t
        return res

    EC2Backend.run_instances = run_instances

    orig_create_image = EC2Backend.create_image

    def create_image(self, *args, **kwargs):
        ami = orig_create_image(self, *args, **kwargs)
        ami.state = "pending"
        t = now()
        S.pending_images[ami.id] = (ami, t + scaled(IMAGE_PENDING_SECONDS))
        S.created[ami.id] = t
        return ami

    EC2Backend.create_image = create_image

    orig_terminate = EC2Backend.terminate_instances

    def terminate_instances(self, instance_ids):
        t = now()
        for iid in instance_ids:
            where = serving_where(iid, t)
            event("terminate", instance=iid, violation=("terminated while " + ", ".join(where)) if where else None)
            S.pending_instances.pop(iid, None)
        return orig_terminate(self, instance_ids)

    EC2Backend.terminate_instances = terminate_instances


def serving_where(iid, t):
    """Load balancers that still send iid traffic: registered, or draining."""
    from moto.elbv2.models import elbv2_backends
    from moto.elb.models import elb_backends

    out = []
    for acct in elbv2_backends.values():
        for b in acct.values():
            for tg in b.target_groups.values():
                if iid in tg.targets:
                    out.append("registered in target group " + tg.name)
                d = S.tg_draining.get((tg.arn, iid))
                if d and d["until"] > t:
                    out.append("draining from target group %s for %.1fs more" % (tg.name, d["until"] - t))
    for acct in elb_backends.values():
        for b in acct.values():
            for lb in b.load_balancers.values():
                if iid in lb.instance_ids:
                    out.append("registered with load balancer " + lb.name)
                u = S.elb_draining.get((lb.name, iid), 0)
                if u > t:
                    out.append("draining from load balancer %s for %.1fs more" % (lb.name, u - t))
    return out


# --- time ---------------------------------------------------------------------


def tick():
    from moto.autoscaling.models import autoscaling_backends
    from moto.ec2.models.instances import InstanceState

    t = now()
    for iid, (inst, due) in list(S.pending_instances.items()):
        if due <= t:
            if inst._state.name == "pending":
                inst._state = InstanceState("running", 16)
            del S.pending_instances[iid]
    for aid, (ami, due) in list(S.pending_images.items()):
        if due <= t:
            if ami.state == "pending":
                ami.state = "available"
            del S.pending_images[aid]
    for key in [k for k, d in S.tg_draining.items() if d["until"] <= t]:
        del S.tg_draining[key]
    for key in [k for k, u in S.elb_draining.items() if u <= t]:
        del S.elb_draining[key]
    for iid, (group, due) in list(S.terminating.items()):
        if due <= t:
            del S.terminating[iid]
            finish_terminate(group, iid)
    for acct in autoscaling_backends.values():
        for backend in acct.values():
            advance_launches(backend, t)


def advance_launches(backend, t):
    for iid, launch in list(S.launches.items()):
        group = backend.autoscaling_groups.get(launch["group"])
        if group is None:
            continue
        _, state = find_state(backend, iid)
        if state is None:
            S.launches.pop(iid, None)
            continue
        if state.lifecycle_state == "Pending" and state.instance.state == "running":
            if not launch["hooks"]:
                go_in_service(group, state)
                continue
            name, timeout, default = launch["hooks"][0]
            rule = stand_in_rule(group.name)
            w = {"group": group.name, "hook": name, "timeout": timeout, "default": default, "deadline": t + scaled(timeout)}
            if launch["agent"] and rule.get("result", "CONTINUE") != "NEVER":
                w["stand_in_due"] = t + scaled(rule.get("delay_seconds", 0))
                w["stand_in_result"] = rule.get("result", "CONTINUE")
            S.hook_waits[iid] = w
            state.lifecycle_state = "Pending:Wait"
            event("pending_wait", instance=iid, group=group.name, detail=name)
    for iid, w in list(S.hook_waits.items()):
        if w["group"] not in backend.autoscaling_groups:
            continue
        if w.get("stand_in_due") is not None and w["stand_in_due"] <= t:
            complete(backend, iid, w["stand_in_result"], "stand-in")
        elif w["deadline"] <= t:
            complete(backend, iid, w["default"], "heartbeat timeout")


# --- wiring -------------------------------------------------------------------


def install_dispatch():
    from moto.core.responses import BaseResponse

    orig_call_action = BaseResponse.call_action

    def call_action(self):
        with LOCK:
            service = getattr(self, "service_name", "") or ""
            try:
                tick()
                check_request(self, service, self._get_action())
            except StrictError as e:
                return error_response(service, e)
            try:
                return orig_call_action(self)
            except StrictError as e:
                return error_response(service, e)

    BaseResponse.call_action = call_action


def install_api():
    from moto.moto_api._internal import urls
    from moto.moto_api._internal.models import moto_api_backend

    def events(request, full_url, headers):
        with LOCK:
            tick()
            return 200, {"Content-Type": "application/json"}, json.dumps({"events": S.events})

    def stand_in(request, full_url, headers):
        json_headers = {"Content-Type": "application/json"}
        if request.method == "GET":
            with LOCK:
                return 200, json_headers, json.dumps({"default": STAND_IN_DEFAULT, "rules": S.stand_in})
        if request.method != "POST":
            return 405, json_headers, json.dumps({"error": "GET the rules or POST one"})
        body = request.get_data() if hasattr(request, "get_data") else (getattr(request, "data", None) or request.body)
        try:
            rule = json.loads(body or b"")
            if not isinstance(rule, dict):
                raise ValueError("a JSON object is expected")
            result = rule.get("result", "CONTINUE")
            if result not in ("CONTINUE", "ABANDON", "NEVER"):
                raise ValueError("result must be CONTINUE, ABANDON or NEVER, got %r" % result)
            delay = float(rule.get("delay_seconds", 0))
            if delay < 0:
                raise ValueError("delay_seconds must not be negative")
        except (TypeError, ValueError) as e:
            return 400, json_headers, json.dumps({"error": "stand-in rule: %s" % e})
        with LOCK:
            S.stand_in[rule.get("group", "")] = {"result": result, "delay_seconds": delay}
        return 200, json_headers, json.dumps({"status": "ok", "group": rule.get("group", ""), "result": result, "delay_seconds": delay})

    def config(request, full_url, headers):
        return 200, {"Content-Type": "application/json"}, json.dumps({"strict": True, "time_scale": SCALE})

    urls.url_paths["{0}/moto-api/clone/events"] = events
    urls.url_paths["{0}/moto-api/clone/stand-in"] = stand_in
    urls.url_paths["{0}/moto-api/clone/config"] = config

    orig_reset = type(moto_api_backend).reset

    def reset(self):
        with LOCK:
            S.reset()
        return orig_reset(self)

    type(moto_api_backend).reset = reset


def install():
    install_dispatch()
    install_autoscaling()
    install_elbv2()
    install_elb()
    install_ec2()
    install_api()
