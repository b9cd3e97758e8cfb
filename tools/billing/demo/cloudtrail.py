"""CloudTrail log files of the demo org, as a trail delivers them to S3.

``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16>.json.gz``,
each ``{"Records": [...]}``: resource creations (who created what), the incidents' causes, decoys
near them, deploys that name their commit, and routine noise (sign-ins, reads, tagging, start/stop).
"""

from __future__ import annotations

import gzip
import json
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from tools.billing.demo.catalogue import ACCOUNTS, DOMAIN, PEOPLE, Account, alnum_id, prng, rng_for
from tools.billing.demo.gitrepo import RepoHistory
from tools.billing.demo.model import SSO_ROLE, Identity, Resource, person, terraform
from tools.billing.demo.org import Org
from tools.billing.demo.spec import EVIDENCE_START

LEGACY_IAM_USERS = frozenset({"bob"})
"""bob is a legacy IAM user (type IAMUser); everyone else signs in through IAM Identity Center."""
TERRAFORM_UA = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.80.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.6 os/linux lang/go#1.23.3"
)
CLI_UA = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython"
CONSOLE_UA = "AWS Internal"
SDK_UA = "AWS-SageMaker-Python-SDK/2.232.2 Python/3.11.9 Linux/5.10 Boto3/1.35.80 md/Botocore#1.35.80"


@dataclass
class Event:
    when: datetime
    account: Account
    region: str
    source: str
    name: str
    actor: Identity
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    read_only: bool = False
    user_agent: str | None = None
    tag: str | None = None
    resources: list[dict[str, str]] | None = None
    record: dict[str, Any] = field(default_factory=dict)


def _ip(rng: random.Random, actor: Identity) -> str:
    if actor.kind == "service":
        return actor.name
    if actor.kind == "role":
        return f"4.{rng.randrange(150, 250)}.{rng.randrange(0, 255)}.{rng.randrange(1, 254)}"
    return f"203.0.113.{rng.randrange(2, 250)}"


def _stable_id(prefix: str, *parts: str) -> str:
    return prefix + alnum_id(prng(0, *parts), 17 if prefix in ("AROA", "AIDA") else 16, upper=True)


def user_identity(actor: Identity, account_id: str, rng: random.Random, when: datetime) -> dict[str, Any]:
    created = (when - timedelta(minutes=rng.randrange(3, 90))).strftime("%Y-%m-%dT%H:%M:%SZ")
    key = "ASIA" + alnum_id(rng, 16, upper=True)
    if actor.kind == "user" and actor.name in LEGACY_IAM_USERS:
        return {
            "type": "IAMUser",
            "principalId": _stable_id("AIDA", actor.name),
            "arn": f"arn:aws:iam::{account_id}:user/{actor.name}",
            "accountId": account_id,
            "accessKeyId": _stable_id("AKIA", actor.name),
            "userName": actor.name,
        }
    if actor.kind == "service":
        role_id = _stable_id("AROA", account_id, "asg-role")
        return {
            "type": "AssumedRole",
            "principalId": f"{role_id}:AutoScaling",
            "arn": actor.arn(account_id),
            "accountId": account_id,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": f"arn:aws:iam::{account_id}:role/aws-service-role/autoscaling.amazonaws.com/"
                    "AWSServiceRoleForAutoScaling",
                    "accountId": account_id,
                    "userName": "AWSServiceRoleForAutoScaling",
                },
                "attributes": {"creationDate": created, "mfaAuthenticated": "false"},
            },
            "invokedBy": actor.name,
        }
    role = SSO_ROLE if actor.kind == "user" else actor.name
    session = f"{actor.name}@{DOMAIN}" if actor.kind == "user" else (actor.session or "session")
    role_id = _stable_id("AROA", account_id, role)
    role_arn = (
        f"arn:aws:iam::{account_id}:role/aws-reserved/sso.amazonaws.com/{role}"
        if actor.kind == "user"
        else f"arn:aws:iam::{account_id}:role/{role}"
    )
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": actor.arn(account_id),
        "accountId": account_id,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": role_arn,
                "accountId": account_id,
                "userName": role,
            },
            "webIdFederationData": {},
            "attributes": {"creationDate": created, "mfaAuthenticated": "true" if actor.kind == "user" else "false"},
        },
    }


def to_record(ev: Event, seed: int, n: int) -> dict[str, Any]:
    rng = prng(seed, "ct", n, ev.name, ev.when.isoformat())
    rec: dict[str, Any] = {
        "eventVersion": "1.10" if not ev.read_only else "1.09",
        "userIdentity": user_identity(ev.actor, ev.account.id, rng, ev.when),
        "eventTime": ev.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": ev.source,
        "eventName": ev.name,
        "awsRegion": ev.region,
        "sourceIPAddress": _ip(rng, ev.actor),
        "userAgent": ev.user_agent
        or (
            ev.actor.name
            if ev.actor.kind == "service"
            else TERRAFORM_UA
            if ev.actor.name.startswith("terraform-")
            else CLI_UA
        ),
        "requestParameters": ev.request,
        "responseElements": ev.response,
        "requestID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "eventID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "readOnly": ev.read_only,
    }
    if ev.resources:
        rec["resources"] = ev.resources
    rec.update(
        {
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": ev.account.id,
            "eventCategory": "Management",
        }
    )
    if ev.actor.kind != "service":
        rec["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{ev.source.split('.')[0]}.{ev.region}.amazonaws.com",
        }
    return rec


def _tag_spec(res: Resource, kind: str) -> dict[str, Any] | None:
    if not res.tags:
        return None
    return {"items": [{"resourceType": kind, "tags": [{"key": k, "value": v} for k, v in res.tags.items()]}]}


def creation_event(res: Resource) -> Event | None:
    """The CloudTrail event that created ``res`` (it names the creator)."""
    if res.account.provider != "aws" or res.create_event is None:
        return None
    acct, region, p = res.account, res.region or "us-east-1", res.create_params
    base: dict[str, Any] = {
        "when": res.created,
        "account": acct,
        "region": region,
        "actor": res.creator,
        "tag": f"create:{res.rid}",
    }
    if res.rtype == "instance":
        req: dict[str, Any] = {
            "instancesSet": {"items": [{"imageId": p.get("imageId"), "minCount": 1, "maxCount": 1}]},
            "instanceType": p["instanceType"],
            "tagSpecificationSet": _tag_spec(res, "instance"),
        }
        if "autoScalingGroupName" in p:
            req["launchTemplate"] = {"launchTemplateName": f"{p['autoScalingGroupName']}-lt", "version": "$Latest"}
        resp = {
            "instancesSet": {
                "items": [
                    {
                        "instanceId": res.rid,
                        "instanceType": p["instanceType"],
                        "placement": {"availabilityZone": res.az},
                        "instanceState": {"code": 0, "name": "pending"},
                    }
                ]
            },
            "ownerId": acct.id,
        }
        return Event(source="ec2.amazonaws.com", name="RunInstances", request=req, response=resp, **base)
    if res.rtype == "volume":
        return Event(
            source="ec2.amazonaws.com",
            name="CreateVolume",
            request={**p, "encrypted": True, "tagSpecificationSet": _tag_spec(res, "volume")},
            response={
                "volumeId": res.rid,
                "size": str(p["size"]),
                "status": "creating",
                "availabilityZone": p["availabilityZone"],
            },
            **base,
        )
    if res.rtype == "bucket":
        return Event(
            source="s3.amazonaws.com",
            name="CreateBucket",
            request={"bucketName": res.rid, "Host": f"{res.rid}.s3.amazonaws.com"},
            response=None,
            resources=[{"ARN": f"arn:aws:s3:::{res.rid}", "accountId": acct.id, "type": "AWS::S3::Bucket"}],
            **base,
        )
    if res.rtype == "db":
        return Event(
            source="rds.amazonaws.com",
            name="CreateDBInstance",
            request={
                "dBInstanceIdentifier": res.name,
                **p,
                "tags": [{"key": k, "value": v} for k, v in res.tags.items()],
            },
            response={
                "dBInstanceIdentifier": res.name,
                "dBInstanceArn": res.rid,
                "dBInstanceClass": p["dBInstanceClass"],
                "dBInstanceStatus": "creating",
            },
            **base,
        )
    if res.rtype == "function":
        return Event(
            source="lambda.amazonaws.com",
            name="CreateFunction20150331",
            request={"functionName": res.name, **p, "tags": dict(res.tags)},
            response={"functionName": res.name, "functionArn": res.rid, "state": "Pending"},
            **base,
        )
    if res.rtype == "distribution":
        dist_id = res.rid.rsplit("/", 1)[-1]
        return Event(
            source="cloudfront.amazonaws.com",
            name="CreateDistribution2020_05_31",
            request={"distributionConfig": {"comment": res.name, "enabled": True}},
            response={"distribution": {"id": dist_id, "aRN": res.rid, "status": "InProgress"}},
            **base,
        )
    if res.rtype == "natgateway":
        nat_id = res.rid.rsplit("/", 1)[-1]
        return Event(
            source="ec2.amazonaws.com",
            name="CreateNatGateway",
            request={
                "CreateNatGatewayRequest": {
                    "SubnetId": "subnet-0" + nat_id[5:21],
                    "TagSpecification": _tag_spec(res, "natgateway"),
                }
            },
            response={"CreateNatGatewayResponse": {"natGateway": {"natGatewayId": nat_id, "state": "pending"}}},
            **base,
        )
    if res.rtype == "endpoint":
        return Event(
            source="sagemaker.amazonaws.com",
            name="CreateEndpoint",
            request={
                "endpointName": res.name,
                "endpointConfigName": f"{res.name}-config",
                "tags": [{"key": k, "value": v} for k, v in res.tags.items()],
            },
            response={"endpointArn": res.rid},
            user_agent=SDK_UA if res.creator.kind == "user" else None,
            **base,
        )
    if res.rtype == "training-job":
        return Event(
            source="sagemaker.amazonaws.com",
            name="CreateTrainingJob",
            request={
                "trainingJobName": res.name,
                "resourceConfig": {
                    "instanceType": p["instanceType"],
                    "instanceCount": p["instanceCount"],
                    "volumeSizeInGB": 200,
                },
                "tags": [{"key": k, "value": v} for k, v in res.tags.items()],
            },
            response={"trainingJobArn": res.rid},
            user_agent=SDK_UA,
            **base,
        )
    if res.rtype == "inference-profile":
        return Event(
            source="bedrock.amazonaws.com",
            name="CreateInferenceProfile",
            request={"inferenceProfileName": res.name, "tags": [{"key": k, "value": v} for k, v in res.tags.items()]},
            response={"inferenceProfileArn": res.rid, "status": "ACTIVE"},
            **base,
        )
    return None


def _asg_update(when: datetime, acct: Account, actor: Identity, name: str, tag: str | None, **sizes: int) -> Event:
    return Event(
        when,
        acct,
        acct.region,
        "autoscaling.amazonaws.com",
        "UpdateAutoScalingGroup",
        actor,
        request={"autoScalingGroupName": name, **sizes},
        response=None,
        tag=tag,
    )


def incident_events(org: Org, repo: RepoHistory) -> list[Event]:
    """The planted causes, their reverts and the decoys around them."""
    out: list[Event] = []
    inc = {i.kind: i for i in org.spec.incident_list}
    commits = repo.tagged()
    storefront, nonprod, ml, payments, search = (
        ACCOUNTS[k] for k in ("storefront", "nonprod", "ml", "payments", "search")
    )
    if "asg_min_size" in inc:
        i = inc["asg_min_size"]
        size = int(i.size)
        out.append(
            _asg_update(
                i.at, storefront, person("alice"), "web-prod", "asg_min_size", minSize=size, desiredCapacity=size
            )
        )
        out.append(
            _asg_update(
                i.at + timedelta(minutes=88), nonprod, person("bob"), "web-staging", "decoy:asg_min_size", maxSize=6
            )
        )
        out.append(
            Event(
                i.at - timedelta(minutes=5),
                storefront,
                storefront.region,
                "autoscaling.amazonaws.com",
                "DescribeAutoScalingGroups",
                person("alice"),
                {"autoScalingGroupNames": ["web-prod"]},
                None,
                read_only=True,
            )
        )
        if i.end is not None:
            out.append(
                _asg_update(
                    datetime.combine(i.end + timedelta(days=1), time(9, 21, 5)),
                    storefront,
                    person("bob"),
                    "web-prod",
                    "asg_min_size:revert",
                    minSize=2,
                    desiredCapacity=4,
                )
            )
    if "gpu_endpoint" in inc:
        i = inc["gpu_endpoint"]
        carol = person("carol")
        cfg = "recsys-llm-rerank-exp-config"
        out.append(
            Event(
                i.at - timedelta(minutes=3),
                ml,
                ml.region,
                "sagemaker.amazonaws.com",
                "CreateEndpointConfig",
                carol,
                {
                    "endpointConfigName": cfg,
                    "productionVariants": [
                        {
                            "variantName": "AllTraffic",
                            "instanceType": "ml.g5.12xlarge",
                            "initialInstanceCount": 1,
                            "modelName": "llm-rerank-exp",
                        }
                    ],
                },
                {"endpointConfigArn": f"arn:aws:sagemaker:{ml.region}:{ml.id}:endpoint-config/{cfg}"},
                user_agent=SDK_UA,
            )
        )
        decoy = "recsys-exp-cpu"
        arn = f"arn:aws:sagemaker:{ml.region}:{ml.id}:endpoint/{decoy}"
        out.append(
            Event(
                i.at - timedelta(days=1, hours=2),
                ml,
                ml.region,
                "sagemaker.amazonaws.com",
                "CreateEndpoint",
                carol,
                {"endpointName": decoy, "endpointConfigName": f"{decoy}-config"},
                {"endpointArn": arn},
                user_agent=SDK_UA,
                tag="decoy:gpu_endpoint",
            )
        )
        out.append(
            Event(
                i.at + timedelta(hours=20),
                ml,
                ml.region,
                "sagemaker.amazonaws.com",
                "DeleteEndpoint",
                carol,
                {"endpointName": decoy},
                None,
                user_agent=SDK_UA,
                tag="decoy:gpu_endpoint:delete",
            )
        )
    if "rds_resize" in inc:
        i = inc["rds_resize"]
        out.append(
            Event(
                i.at,
                payments,
                payments.region,
                "rds.amazonaws.com",
                "ModifyDBInstance",
                person("erin"),
                {
                    "dBInstanceIdentifier": "ledger-prod-db",
                    "dBInstanceClass": "db.r6g.8xlarge",
                    "applyImmediately": True,
                },
                {
                    "dBInstanceIdentifier": "ledger-prod-db",
                    "dBInstanceClass": "db.r6g.2xlarge",
                    "dBInstanceArn": f"arn:aws:rds:{payments.region}:{payments.id}:db:ledger-prod-db",
                    "pendingModifiedValues": {"dBInstanceClass": "db.r6g.8xlarge"},
                },
                tag="rds_resize",
            )
        )
        out.append(
            Event(
                i.at - timedelta(hours=26),
                storefront,
                storefront.region,
                "rds.amazonaws.com",
                "ModifyDBInstance",
                person("judy"),
                {
                    "dBInstanceIdentifier": "checkout-api-prod-db",
                    "backupRetentionPeriod": 14,
                    "applyImmediately": False,
                },
                None,
                tag="decoy:rds_resize",
            )
        )
    if "nat_egress" in inc:
        i = inc["nat_egress"]
        commit = commits.get("nat_egress")
        deployer = Identity("role", "github-actions-deployer", "GitHubActions")
        out.append(
            Event(
                i.at + timedelta(minutes=9),
                search,
                search.region,
                "codedeploy.amazonaws.com",
                "CreateDeployment",
                deployer,
                {
                    "applicationName": "search-indexer",
                    "deploymentGroupName": "search-indexer-prod",
                    "revision": {
                        "revisionType": "GitHub",
                        "gitHubLocation": {"repository": "acme/infra", "commitId": commit.sha if commit else ""},
                    },
                },
                {"deploymentId": "d-" + alnum_id(prng(org.spec.seed, "deploy", "nat"), 9, upper=True)},
                tag="nat_egress:deploy",
            )
        )
        nat = next((r for r in org.resources if r.name == "search-prod-nat-a"), None)
        if nat is not None:
            out.append(
                Event(
                    i.at - timedelta(hours=5),
                    search,
                    search.region,
                    "ec2.amazonaws.com",
                    "CreateTags",
                    person("bob"),
                    {
                        "resourcesSet": {"items": [{"resourceId": nat.rid.rsplit("/", 1)[-1]}]},
                        "tagSet": {"items": [{"key": "backup", "value": "none"}]},
                    },
                    {"_return": True},
                    tag="decoy:nat_egress",
                )
            )
    return out


def asg_events(org: Org) -> list[Event]:
    """CreateAutoScalingGroup by Terraform, minutes before the group's first instances launched."""
    out = []
    first: dict[str, Resource] = {}
    for res in org.resources:
        name = res.create_params.get("autoScalingGroupName")
        if name and (name not in first or res.created < first[name].created):
            first[name] = res
    for name, res in sorted(first.items()):
        p = res.create_params
        max_size = 40 if name == "web-prod" else 4
        out.append(Event(
            res.created - timedelta(minutes=2), res.account, res.region or res.account.region,
            "autoscaling.amazonaws.com", "CreateAutoScalingGroup", terraform(res.team),
            {"autoScalingGroupName": name, "minSize": 2 if name == "web-prod" else 1, "maxSize": max_size,
             "launchTemplate": {"launchTemplateName": f"{name}-lt", "version": "$Latest"},
             "tags": [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in res.tags.items()],
             "instanceType": p.get("instanceType")},
            None, tag=f"create-asg:{name}",
        ))  # fmt: skip
    return out


def deploy_events(org: Org, repo: RepoHistory) -> list[Event]:
    """Routine app releases: a CodeDeploy deployment naming the commit, minutes after the merge."""
    out = []
    deployer = Identity("role", "github-actions-deployer", "GitHubActions")
    app_account = {
        "web": "storefront",
        "checkout-api": "storefront",
        "payments-api": "payments",
        "fraud-scorer": "payments",
        "search-api": "search",
        "search-indexer": "search",
        "etl": "data",
        "recsys": "ml",
        "support-assistant": "growth",
        "product-copy": "growth",
        "email-campaigns": "growth",
        "code-review-bot": "shared",
    }
    for c in repo.commits:
        if c.tag or c.message.split(":")[0] not in app_account or "release" not in c.message:
            continue
        app = c.message.split(":")[0]
        acct = ACCOUNTS[app_account[app]]
        r = prng(org.spec.seed, "deploy", c.sha)
        out.append(
            Event(
                c.when + timedelta(minutes=r.randrange(4, 15)),
                acct,
                acct.region,
                "codedeploy.amazonaws.com",
                "CreateDeployment",
                deployer,
                {
                    "applicationName": app,
                    "deploymentGroupName": f"{app}-prod",
                    "revision": {
                        "revisionType": "GitHub",
                        "gitHubLocation": {"repository": "acme/infra", "commitId": c.sha},
                    },
                },
                {"deploymentId": "d-" + alnum_id(r, 9, upper=True)},
            )
        )
    return out


NOISE = (
    ("signin.amazonaws.com", "ConsoleLogin", False),
    ("ec2.amazonaws.com", "DescribeInstances", True),
    ("sts.amazonaws.com", "GetCallerIdentity", True),
    ("cloudwatch.amazonaws.com", "PutMetricAlarm", False),
    ("ec2.amazonaws.com", "DescribeVolumes", True),
    ("s3.amazonaws.com", "GetBucketPolicy", True),
    ("iam.amazonaws.com", "ListRoles", True),
    ("ec2.amazonaws.com", "CreateTags", False),
)


NOISE_DAY_SHARE = 0.1
"""Share of otherwise quiet working days on which an account logs routine activity (bounds the file count)."""


def noise_events(org: Org, busy: set[tuple[str, date]]) -> list[Event]:
    """Sign-ins, reads and small changes by the account's team: on days the account is busy anyway, and on
    a tenth of its quiet working days."""
    out = []
    n = (org.spec.last_day - EVIDENCE_START).days + 1
    people_by_team: dict[str | None, list[str]] = defaultdict(list)
    for name_, team in PEOPLE.items():
        people_by_team[team].append(name_)
    instances: dict[str, list[str]] = defaultdict(list)
    for res in org.resources:
        if res.rtype == "instance" and res.end is None:
            instances[res.account.id].append(res.rid)
    for acct in (a for a in ACCOUNTS.values() if a.provider == "aws"):
        counts = rng_for(org.spec.seed, "noise-ct", acct.id).poisson(3.0, n)
        r = prng(org.spec.seed, "noise-ct", acct.id)
        crew = people_by_team.get(acct.team) or ["bob", "alice", "frank"]
        for k in range(n):
            day = EVIDENCE_START + timedelta(days=k)
            quiet = r.random() > NOISE_DAY_SHARE
            if (acct.id, day) not in busy and (day.weekday() >= 5 or quiet):
                continue
            for _ in range(int(counts[k])):
                src, name, ro = NOISE[r.randrange(0, len(NOISE))]
                who = person(crew[r.randrange(0, len(crew))])
                when = datetime.combine(day, time(r.randrange(7, 20), r.randrange(0, 60), r.randrange(0, 60)))
                req: dict[str, Any] | None = None
                if name == "PutMetricAlarm":
                    req = {"alarmName": f"{acct.name}-cpu-high-{r.randrange(1, 40)}", "threshold": 80.0}
                elif name == "CreateTags" and instances.get(acct.id):
                    target = instances[acct.id][r.randrange(0, len(instances[acct.id]))]
                    req = {
                        "resourcesSet": {"items": [{"resourceId": target}]},
                        "tagSet": {"items": [{"key": "patch-group", "value": "weekly"}]},
                    }
                region = "us-east-1" if src in ("signin.amazonaws.com", "iam.amazonaws.com") else acct.region
                out.append(
                    Event(
                        when,
                        acct,
                        region,
                        src,
                        name,
                        who,
                        req,
                        None,
                        read_only=ro,
                        user_agent=CONSOLE_UA if name == "ConsoleLogin" else None,
                    )
                )
    return out


def write_cloudtrail(org: Org, repo: RepoHistory, root: Path) -> dict[str, dict[str, Any]]:
    """Write every log file under ``root``; returns tagged records (incident causes, creations, decoys)."""
    events: list[Event] = []
    for res in org.resources:
        ev = creation_event(res)
        if ev is not None and EVIDENCE_START <= ev.when.date() <= org.spec.last_day:
            events.append(ev)
    events += asg_events(org) + incident_events(org, repo) + deploy_events(org, repo)
    events += noise_events(org, {(e.account.id, e.when.date()) for e in events})
    events = [e for e in events if e.when.date() <= org.spec.last_day]  # the trail ends with the data
    events.sort(key=lambda e: (e.when, e.account.id, e.name))
    files: dict[tuple[str, str, date], list[dict[str, Any]]] = defaultdict(list)
    tagged: dict[str, dict[str, Any]] = {}
    for n, ev in enumerate(events):
        rec = to_record(ev, org.spec.seed, n)
        files[(ev.account.id, ev.region, ev.when.date())].append(rec)
        if ev.tag:
            tagged[ev.tag] = rec
    for (acct, region, day), records in sorted(files.items()):
        first = datetime.strptime(records[0]["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        stamp = first.replace(minute=first.minute - first.minute % 5) + timedelta(minutes=5)
        suffix = alnum_id(prng(org.spec.seed, "ctfile", acct, region, day.isoformat()), 16, upper=True)
        folder = root / "AWSLogs" / acct / "CloudTrail" / region / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{acct}_CloudTrail_{region}_{stamp:%Y%m%dT%H%MZ}_{suffix}.json.gz"
        payload = json.dumps({"Records": records}, separators=(",", ":")).encode()
        with open(folder / name, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
            gz.write(payload)
    return tagged
