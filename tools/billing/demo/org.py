"""The demo org's inventory: which resources exist, who owns and created them, how they are billed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import numpy as np

from tools.billing.demo import meters as mt
from tools.billing.demo.catalogue import (
    ACCOUNTS,
    EC2_PRICE,
    REGION_PRICE,
    SAGEMAKER_PRICE,
    TEAMS,
    Account,
    alnum_id,
    hex_id,
    prng,
    rng_for,
)
from tools.billing.demo.model import Identity, Resource, person, terraform
from tools.billing.demo.rhythm import Rhythm
from tools.billing.demo.spec import EU_LAUNCH, EVIDENCE_START, DemoSpec, IncidentSpec
from tools.billing.demo.tagging import assign_tags


@dataclass
class Org:
    spec: DemoSpec
    rhythm: Rhythm
    resources: list[Resource] = field(default_factory=list)


class OrgBuilder:
    """Builds the inventory; every random draw comes from a stream named after the resource."""

    def __init__(self, spec: DemoSpec, rhythm: Rhythm) -> None:
        self.spec = spec
        self.rhythm = rhythm
        self.mult = spec.scale_spec.multiplier
        self.org = Org(spec, rhythm)
        self.incidents = {i.kind: i for i in spec.incident_list}

    # -- helpers -------------------------------------------------------------------------------
    def rng(self, *key: object) -> random.Random:
        return prng(self.spec.seed, *key)

    def day_pos(self, moment: datetime) -> float:
        """A moment as day units from first_day (fractional)."""
        base = datetime.combine(self.spec.first_day, time())
        return (moment - base).total_seconds() / 86400.0

    def moment(self, pos: float) -> datetime:
        return datetime.combine(self.spec.first_day, time()) + timedelta(seconds=round(pos * 86400))

    def baseline_created(self, key: str) -> datetime:
        """Baseline resources were built between EVIDENCE_START and the start of the billing data."""
        r = self.rng("created", key)
        span = max((self.spec.first_day - EVIDENCE_START).days - 2, 1)
        day = EVIDENCE_START + timedelta(days=int(r.randrange(0, span)))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return datetime.combine(day, time(int(r.randrange(9, 18)), int(r.randrange(0, 60)), int(r.randrange(0, 60))))

    def when(self, key: str, launched: datetime | None) -> tuple[float, datetime]:
        """(day position, creation moment): the launch moment, or a baseline build date in Sep-Oct 2025."""
        created = launched if launched is not None else self.baseline_created(key)
        return self.day_pos(created), created

    def add(self, res: Resource) -> Resource:
        self.org.resources.append(res)
        return res

    def n(self, count: int) -> int:
        return count * self.mult

    # -- EC2 -----------------------------------------------------------------------------------
    def ec2(
        self,
        team: str,
        app: str,
        env: str,
        acct: str,
        role: str,
        itype: str,
        count: int,
        driver: str,
        *,
        region: str | None = None,
        launch: datetime | None = None,
        covered: bool = False,
        spot: bool = False,
        disk_gb: int = 100,
        egress_gb: float = 0.0,
        scale: bool = True,
    ) -> None:
        account = ACCOUNTS[acct]
        region = region or account.region
        eu = "-eu" if region == "eu-west-1" else ""
        creator = terraform(team)
        for i in range(1, (self.n(count) if scale else count) + 1):
            name = f"{app}-{env}{eu}-{role}-{i:02d}"
            r = self.rng("ec2", acct, name)
            iid = "i-0" + hex_id(r, 16)
            az = region + "abc"[r.randrange(0, 3)]
            pos, created = self.when(name, launch + timedelta(minutes=7 * i) if launch else None)
            price = EC2_PRICE[itype] * REGION_PRICE[region]
            meters = [mt.box_usage(region, itype, price, driver, covered=covered, spot=spot)]
            if egress_gb:
                meters.append(mt.data_transfer_out(region, egress_gb, driver))
            path = f"terraform/teams/{team}/{app}/main.tf"
            self.add(
                Resource(
                    iid,
                    name,
                    "instance",
                    account,
                    region,
                    team,
                    env,
                    app,
                    None,
                    pos,
                    None,
                    created,
                    creator,
                    "RunInstances",
                    path,
                    meters,
                    az=az,
                    tf_name=f"aws_instance.{name.replace('-', '_')}",
                    create_params={"instanceType": itype, "imageId": "ami-0" + hex_id(r, 16)},
                )
            )
            self.volume(team, app, env, account, region, az, f"{name}-root", disk_gb, pos, created, creator, path)

    def volume(
        self,
        team: str,
        app: str,
        env: str,
        account: Account,
        region: str,
        az: str,
        name: str,
        gb: int,
        pos: float,
        created: datetime,
        creator: Identity,
        path: str | None,
    ) -> None:
        r = self.rng("vol", account.id, name)
        vid = "vol-0" + hex_id(r, 16)
        tf = f"aws_ebs_volume.{name.replace('-', '_')}" if path else None
        self.add(
            Resource(
                vid,
                name,
                "volume",
                account,
                region,
                team,
                env,
                app,
                None,
                pos,
                None,
                created + timedelta(seconds=3),
                creator,
                "CreateVolume",
                path,
                [mt.ebs(region, gb)],
                az=az,
                tf_name=tf,
                create_params={"size": gb, "volumeType": "gp3", "availabilityZone": az},
            )
        )

    def asg(
        self,
        team: str,
        app: str,
        name: str,
        acct: str,
        itype: str,
        min_size: int,
        max_size: int,
        demand: float,
        driver: np.ndarray,
    ) -> None:
        """An Auto Scaling group: one EC2 resource per instance lifetime (slot x run of active days)."""
        account = ACCOUNTS[acct]
        region = account.region
        noise = rng_for(self.spec.seed, "asg", name).lognormal(0, 0.06, len(driver))
        desired = np.clip(np.ceil(demand * driver * noise), min_size, max_size)
        running = np.repeat(desired[None, :], max_size, axis=0) > np.arange(max_size)[:, None]
        hours = running.astype(float) * 24.0
        inc = self.incidents.get("asg_min_size")
        if inc is not None and name == "web-prod":
            s = self.rhythm.index(inc.start)
            e = self.rhythm.index(inc.end) + 1 if inc.end else len(driver)
            start_frac = 1.0 - (inc.at.hour * 60 + inc.at.minute) / 1440.0
            raised = np.arange(max_size)[:, None] < int(inc.size)
            extra = raised & (hours == 0)
            window = np.zeros(len(driver), bool)
            window[s:e] = True
            add = extra & window[None, :]
            hours[add] = 24.0
            hours[:, s][add[:, s]] = 24.0 * start_frac
        path = f"terraform/teams/{team}/{app}/asg.tf"
        svc = Identity("service", "autoscaling.amazonaws.com")
        for slot in range(max_size):
            active = hours[slot] > 0
            if not active.any():
                continue
            edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(int), [0]])))
            for run_start, run_end in zip(edges[::2], edges[1::2], strict=True):
                rr = self.rng("asg-instance", name, slot, int(run_start))
                iid = "i-0" + hex_id(rr, 16)
                explicit = np.zeros(len(driver))
                explicit[run_start:run_end] = hours[slot, run_start:run_end]
                if run_start == 0 and slot < min_size:
                    pos, created = self.when(f"{name}-{slot}", None)
                else:
                    first_hours = float(hours[slot, run_start])
                    if first_hours >= 24.0:  # a scale-out: launched during the morning ramp-up
                        first_hours = 24.0 - rr.uniform(5.0, 10.0)
                        explicit[run_start] = first_hours
                    pos = run_start + (1.0 - first_hours / 24.0) + 0.0003 * slot
                    created = self.moment(pos)
                meter = mt.box_usage(region, itype, EC2_PRICE[itype], "explicit", explicit=explicit)
                az = region + "abc"[slot % 3]
                self.add(
                    Resource(
                        iid,
                        name,
                        "instance",
                        account,
                        region,
                        team,
                        "prod" if "prod" in name else "staging",
                        app,
                        None,
                        pos,
                        float(run_end),
                        created,
                        svc,
                        "RunInstances",
                        path,
                        [meter],
                        az=az,
                        create_params={
                            "instanceType": itype,
                            "autoScalingGroupName": name,
                            "imageId": "ami-0" + hex_id(rr, 16),
                        },
                    )
                )

    # -- other AWS services ----------------------------------------------------------------------
    def bucket(
        self,
        team: str,
        app: str,
        env: str,
        acct: str,
        purpose: str,
        gb: float,
        puts: float,
        egress_gb: float = 0.0,
        *,
        creator: Identity | None = None,
        iac: bool = True,
    ) -> None:
        account = ACCOUNTS[acct]
        name = f"acme-{app}-{env}-{purpose}"
        pos, created = self.when(name, None)
        meters = [mt.s3_storage(account.region, gb), mt.s3_requests(account.region, puts)]
        if egress_gb:
            meters.append(mt.data_transfer_out(account.region, egress_gb, "traffic", service="s3"))
        path = f"terraform/teams/{team}/{app}/main.tf" if iac else None
        self.add(
            Resource(
                name,
                name,
                "bucket",
                account,
                account.region,
                team,
                env,
                app,
                None,
                pos,
                None,
                created,
                creator or terraform(team),
                "CreateBucket",
                path,
                meters,
                tf_name=f"aws_s3_bucket.{name.replace('-', '_')}",
            )
        )

    def rds(
        self,
        team: str,
        app: str,
        env: str,
        acct: str,
        db: str,
        cls: str,
        gb: int,
        *,
        region: str | None = None,
        launch: datetime | None = None,
    ) -> Resource:
        account = ACCOUNTS[acct]
        region = region or account.region
        name = f"{app}-{env}-{db}"
        arn = f"arn:aws:rds:{region}:{account.id}:db:{name}"
        pos, created = self.when(name, launch)
        meters = [mt.rds_instance(region, cls), mt.rds_storage(region, gb)]
        return self.add(
            Resource(
                arn,
                name,
                "db",
                account,
                region,
                team,
                env,
                app,
                None,
                pos,
                None,
                created,
                terraform(team),
                "CreateDBInstance",
                f"terraform/teams/{team}/{app}/main.tf",
                meters,
                tf_name=f"aws_db_instance.{name.replace('-', '_')}",
                create_params={"dBInstanceClass": cls, "engine": "postgres", "allocatedStorage": gb},
            )
        )

    def function(
        self, team: str, app: str, env: str, acct: str, fn: str, requests: float, gbs: float, count: int = 1
    ) -> None:
        account = ACCOUNTS[acct]
        for i in range(1, self.n(count) + 1):
            name = f"{app}-{env}-{fn}" + (f"-{i}" if i > 1 else "")
            arn = f"arn:aws:lambda:{account.region}:{account.id}:function:{name}"
            pos, created = self.when(name, None)
            self.add(
                Resource(
                    arn,
                    name,
                    "function",
                    account,
                    account.region,
                    team,
                    env,
                    app,
                    None,
                    pos,
                    None,
                    created,
                    terraform(team),
                    "CreateFunction20150331",
                    f"terraform/teams/{team}/{app}/main.tf",
                    mt.lambda_meters(account.region, requests, gbs),
                    tf_name=f"aws_lambda_function.{name.replace('-', '_')}",
                    create_params={"runtime": "python3.12", "memorySize": 1024},
                )
            )

    def distribution(self, team: str, app: str, env: str, acct: str, gb: float, requests: float) -> None:
        account = ACCOUNTS[acct]
        name = f"{app}-{env}-cdn"
        dist = "E" + alnum_id(self.rng("cf", name), 13, upper=True)
        pos, created = self.when(name, None)
        self.add(
            Resource(
                f"arn:aws:cloudfront::{account.id}:distribution/{dist}",
                name,
                "distribution",
                account,
                None,
                team,
                env,
                app,
                None,
                pos,
                None,
                created,
                terraform(team),
                "CreateDistribution2020_05_31",
                f"terraform/teams/{team}/{app}/main.tf",
                mt.cloudfront_meters(gb, requests),
                tf_name=f"aws_cloudfront_distribution.{name.replace('-', '_')}",
            )
        )

    def nat(self, team: str, acct: str, name: str, gb: float, *, extra: IncidentSpec | None = None) -> None:
        account = ACCOUNTS[acct]
        r = self.rng("nat", acct, name)
        nid = "nat-0" + hex_id(r, 16)
        pos, created = self.when(name, None)
        bytes_meter = mt.nat_bytes(account.region, gb)
        if extra is not None:
            s = self.day_pos(datetime.combine(extra.start, time()))
            e = self.day_pos(datetime.combine(extra.end, time())) + 1 if extra.end else 1e9
            bytes_meter.add_windows.append((s, e, extra.size))
        app = "network"
        self.add(
            Resource(
                f"arn:aws:ec2:{account.region}:{account.id}:natgateway/{nid}",
                name,
                "natgateway",
                account,
                account.region,
                team,
                "prod",
                app,
                None,
                pos,
                None,
                created,
                terraform("platform"),
                "CreateNatGateway",
                "terraform/shared/network/nat.tf",
                [mt.nat_hours(account.region), bytes_meter],
                az=account.region + "a",
                tf_name=f"aws_nat_gateway.{name.replace('-', '_')}",
            )
        )

    def endpoint(
        self,
        team: str,
        app: str,
        name: str,
        acct: str,
        itype: str,
        count: int,
        *,
        feature: str | None,
        creator: Identity,
        launch: datetime | None,
        iac: bool = True,
    ) -> Resource:
        account = ACCOUNTS[acct]
        pos, created = self.when(name, launch)
        arn = f"arn:aws:sagemaker:{account.region}:{account.id}:endpoint/{name}"
        meter = mt.sagemaker_hosting(account.region, itype, SAGEMAKER_PRICE[itype] * count)
        return self.add(
            Resource(
                arn,
                name,
                "endpoint",
                account,
                account.region,
                team,
                "prod",
                app,
                feature,
                pos,
                None,
                created,
                creator,
                "CreateEndpoint",
                f"terraform/teams/{team}/{app}/sagemaker.tf" if iac else None,
                [meter],
                tf_name=f"aws_sagemaker_endpoint.{name.replace('-', '_')}" if iac else None,
                create_params={"instanceType": itype, "initialInstanceCount": count},
            )
        )

    def training_runs(self, team: str, app: str, acct: str, itype: str, feature: str) -> None:
        """Weekly GPU training jobs (Sundays 03:00 UTC), one resource per job."""
        account = ACCOUNTS[acct]
        role = Identity("role", "sagemaker-pipelines-exec", "SageMaker")
        for i, day in enumerate(self.rhythm.days):
            if day.weekday() != 6:
                continue
            r = self.rng("train", day.isoformat())
            hours = round(r.uniform(4.5, 7.5), 2)
            name = f"recsys-ranker-train-{day:%Y-%m-%d}-03-00"
            explicit = np.zeros(len(self.rhythm.days))
            explicit[i] = hours
            created = datetime.combine(day, time(3, 0, int(r.randrange(0, 59))))
            arn = f"arn:aws:sagemaker:{account.region}:{account.id}:training-job/{name}"
            meter = mt.sagemaker_training(account.region, itype, SAGEMAKER_PRICE[itype], explicit)
            self.add(
                Resource(
                    arn,
                    name,
                    "training-job",
                    account,
                    account.region,
                    team,
                    "prod",
                    app,
                    feature,
                    float(i),
                    float(i + 1),
                    created,
                    role,
                    "CreateTrainingJob",
                    None,
                    [meter],
                    create_params={"instanceType": itype, "instanceCount": 1},
                )
            )

    def inference_profile(
        self, team: str, app: str, acct: str, model: str, feature: str, tokens: tuple[float, float, float]
    ) -> None:
        account = ACCOUNTS[acct]
        name = f"{feature}-prod"
        pid = alnum_id(self.rng("bedrock", name), 12)
        pos, created = self.when(name, None)
        arn = f"arn:aws:bedrock:{account.region}:{account.id}:application-inference-profile/{pid}"
        self.add(
            Resource(
                arn,
                name,
                "inference-profile",
                account,
                account.region,
                team,
                "prod",
                app,
                feature,
                pos,
                None,
                created,
                terraform(team),
                "CreateInferenceProfile",
                f"terraform/teams/{team}/{app}/bedrock.tf",
                mt.token_meters("bedrock", account.region, model, tokens, "ai"),
                tf_name=f"aws_bedrock_inference_profile.{name.replace('-', '_')}",
            )
        )

    # -- other providers -------------------------------------------------------------------------
    def llm_key(
        self, acct: str, app: str, env: str, feature: str, model: str, tokens: tuple[float, float, float], driver: str
    ) -> Resource:
        account = ACCOUNTS[acct]
        name = f"{feature}-{env}-{model.split('-')[1] if account.provider == 'anthropic' else model}"
        r = self.rng("key", acct, name)
        kid = ("apikey_01" + alnum_id(r, 22)) if account.provider == "anthropic" else ("key_" + alnum_id(r, 16))
        service = "claude-api" if account.provider == "anthropic" else "openai-api"
        pos, created = self.when(name, None)
        assert account.team is not None
        return self.add(
            Resource(
                kid,
                name,
                "API Key",
                account,
                None,
                account.team,
                env,
                app,
                feature,
                pos,
                None,
                created,
                person(TEAMS[account.team].lead),
                None,
                None,
                mt.token_meters(service, None, model, tokens, driver),
            )
        )

    def azure(self, acct: str, team: str, app: str, kind: str, name: str, size: str | float) -> None:
        account = ACCOUNTS[acct]
        rg = f"rg-{app}-prod"
        provider_path = {
            "vm": "Microsoft.Compute/virtualMachines",
            "disk": "Microsoft.Compute/disks",
            "storage": "Microsoft.Storage/storageAccounts",
            "sql": "Microsoft.Sql/servers/databases",
        }[kind]
        rid = f"{account.id}/resourceGroups/{rg}/providers/{provider_path}/{name}"
        rtype = {"vm": "Virtual machine", "disk": "Disk", "storage": "Storage account", "sql": "SQL database"}[kind]
        pos, created = self.when(name, None)
        meters = mt.azure_meters(kind, account.region, size)
        self.add(
            Resource(
                rid,
                name,
                rtype,
                account,
                account.region,
                team,
                "prod",
                app,
                None,
                pos,
                None,
                created,
                person(TEAMS[team].lead),
                None,
                f"terraform/azure/{app}/main.tf",
                meters,
                tf_name=f"azurerm_{kind}.{name.replace('-', '_')}",
            )
        )


def _launch(hour: int) -> datetime:
    return datetime.combine(EU_LAUNCH, time(hour, 0))


def build_org(spec: DemoSpec, rhythm: Rhythm) -> Org:
    """The whole inventory, in a fixed order."""
    b = OrgBuilder(spec, rhythm)
    _storefront(b)
    _payments(b)
    _search(b)
    _data_platform(b)
    _ml_platform(b)
    _growth(b)
    _platform(b)
    _nonprod(b)
    _orphans(b)
    assign_tags(b.org.resources, spec.seed)
    return b.org


def _in_period(b: OrgBuilder, moment: datetime) -> bool:
    return b.spec.first_day <= moment.date() <= b.spec.last_day


def _storefront(b: OrgBuilder) -> None:
    t = b.rhythm.traffic
    b.asg("storefront", "web", "web-prod", "storefront", "m5.2xlarge", 2, 40, 4.2, t)
    b.distribution("storefront", "web", "prod", "storefront", 2600.0, 9.0e7)
    b.bucket("storefront", "web", "prod", "storefront", "assets", 1800, 4.0e5)
    b.bucket("storefront", "web", "prod", "storefront", "access-logs", 5200, 9.0e5)
    b.ec2("storefront", "checkout-api", "prod", "storefront", "web", "c6i.xlarge", 6, "flat", egress_gb=40)
    b.rds("storefront", "checkout-api", "prod", "storefront", "db", "db.r6g.large", 500)
    b.function("storefront", "checkout-api", "prod", "storefront", "webhooks", 2.5e6, 9.0e5)
    if _in_period(b, _launch(8)):
        b.ec2(
            "storefront",
            "checkout-api",
            "prod",
            "storefront",
            "web",
            "c6i.2xlarge",
            8,
            "flat",
            region="eu-west-1",
            launch=_launch(8),
            egress_gb=12,
        )
        b.rds(
            "storefront",
            "checkout-api",
            "prod",
            "storefront",
            "eu-db",
            "db.r6g.xlarge",
            400,
            region="eu-west-1",
            launch=_launch(9),
        )


def _payments(b: OrgBuilder) -> None:
    b.ec2("payments", "payments-api", "prod", "payments", "web", "m6i.xlarge", 8, "flat", covered=True, egress_gb=20)
    b.ec2("payments", "fraud-scorer", "prod", "payments", "worker", "c6i.2xlarge", 3, "flat", covered=True)
    ledger = b.rds("payments", "ledger", "prod", "payments", "db", "db.r6g.2xlarge", 1000)
    inc = b.incidents.get("rds_resize")
    if inc is not None:
        pos = b.day_pos(inc.at)
        old = ledger.meters[0]
        old.end = pos
        new = mt.rds_instance(ledger.region or "us-east-1", "db.r6g.8xlarge")
        new.key = "instance-8x"
        new.start = pos
        ledger.meters.insert(1, new)
    b.bucket("payments", "payments-api", "prod", "payments", "statements", 3400, 2.0e5)
    b.function("payments", "payments-api", "prod", "payments", "fraud-hook", 1.2e6, 4.0e5, count=3)
    b.inference_profile(
        "payments",
        "doc-extraction",
        "payments",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "doc-extraction",
        (2.4e7, 3.0e6, 1.0e7),
    )
    if _in_period(b, _launch(10)):
        b.ec2(
            "payments",
            "payments-api",
            "prod",
            "payments",
            "web",
            "m6i.2xlarge",
            5,
            "flat",
            region="eu-west-1",
            launch=_launch(10),
            egress_gb=6,
        )


def _search(b: OrgBuilder) -> None:
    b.ec2("search", "search-api", "prod", "search", "node", "r6i.xlarge", 10, "flat", covered=True, egress_gb=15)
    b.ec2("search", "search-indexer", "prod", "search", "worker", "c6i.2xlarge", 4, "batch")
    b.bucket("search", "search-indexer", "prod", "search", "snapshots", 7800, 6.0e5)
    b.nat("platform", "search", "search-prod-nat-a", 900.0, extra=b.incidents.get("nat_egress"))
    b.llm_key("oai-search", "search-api", "prod", "search-summaries", "gpt-4.1-mini", (9.0e7, 1.1e7, 3.0e7), "ai")


def _data_platform(b: OrgBuilder) -> None:
    b.ec2("data-platform", "etl", "prod", "data", "worker", "r5.2xlarge", 8, "batch", disk_gb=500)
    b.ec2("data-platform", "etl", "prod", "data", "spot", "r5.2xlarge", 4, "batch", spot=True, disk_gb=200)
    for purpose, gb in (("raw", 42000), ("curated", 18000), ("exports", 2500), ("tmp", 900)):
        b.bucket("data-platform", "datalake", "prod", "data", purpose, gb, 1.5e6)
    b.function("data-platform", "etl", "prod", "data", "ingest-trigger", 8.0e5, 6.0e5, count=2)
    b.rds("data-platform", "etl", "prod", "data", "meta", "db.t4g.medium", 100)
    for i in range(1, b.n(4) + 1):
        b.azure("az-analytics", "data-platform", "analytics", "vm", f"analytics-prod-spark-{i:02d}", "Standard_D8s_v5")
        b.azure("az-analytics", "data-platform", "analytics", "disk", f"analytics-prod-spark-{i:02d}-osdisk", 256)
    b.azure("az-analytics", "data-platform", "analytics", "storage", "acmeanalyticsprodlake", 30000)
    b.azure("az-analytics", "data-platform", "analytics", "storage", "acmeanalyticsprodlogs", 6000)
    b.azure("az-analytics", "data-platform", "analytics", "sql", "analytics-prod-sqldb", 8)


def _ml_platform(b: OrgBuilder) -> None:
    b.endpoint(
        "ml-platform",
        "recsys",
        "recs-ranker-prod",
        "ml",
        "ml.g5.2xlarge",
        2,
        feature="recs-ranker",
        creator=terraform("ml-platform"),
        launch=None,
    )
    b.training_runs("ml-platform", "recsys", "ml", "ml.p4d.24xlarge", "recs-ranker")
    b.bucket("ml-platform", "recsys", "prod", "ml", "features", 12000, 4.0e5)
    b.ec2("ml-platform", "recsys", "dev", "ml", "gpu-notebook", "g5.xlarge", 2, "workday", disk_gb=500)
    inc = b.incidents.get("gpu_endpoint")
    if inc is not None:
        b.endpoint(
            "ml-platform",
            "recsys",
            "recsys-llm-rerank-exp",
            "ml",
            "ml.g5.12xlarge",
            1,
            feature="recs-ranker",
            creator=person("carol"),
            launch=inc.at,
            iac=False,
        )


def _growth(b: OrgBuilder) -> None:
    b.function("growth", "email-campaigns", "prod", "growth", "sender", 3.0e6, 1.5e6, count=3)
    b.bucket("growth", "email-campaigns", "prod", "growth", "templates", 300, 1.0e5)
    b.ec2("growth", "support-assistant", "prod", "growth", "app", "m6i.xlarge", 2, "flat")
    sonnet = b.llm_key(
        "ant-support",
        "support-assistant",
        "prod",
        "support-assistant",
        "claude-sonnet-4-5",
        (1.8e7, 1.6e6, 3.0e7),
        "ai",
    )
    b.llm_key(
        "ant-support", "support-assistant", "prod", "support-assistant", "claude-haiku-4-5", (4.0e7, 4.0e6, 2.0e7), "ai"
    )
    inc = b.incidents.get("agent_loop")
    if inc is not None:
        s = b.day_pos(datetime.combine(inc.start, time()))
        e = b.day_pos(datetime.combine(inc.end, time())) + 1 if inc.end else 1e9
        for m in sonnet.meters:
            factor = inc.size if m.key != "output" else 1 + (inc.size - 1) * 0.6
            m.mult_windows.append((s, e, factor))
    b.llm_key("oai-growth", "product-copy", "prod", "product-copy", "gpt-4.1", (6.0e6, 2.5e6, 1.0e6), "ai_work")
    for i in range(1, b.n(2) + 1):
        b.azure("az-marketing", "growth", "marketing-site", "vm", f"marketing-prod-web-{i:02d}", "Standard_B2ms")
    b.azure("az-marketing", "growth", "marketing-site", "storage", "acmemarketingprodcdn", 800)


def _platform(b: OrgBuilder) -> None:
    for az in "abc":
        b.nat("platform", "shared", f"shared-prod-nat-{az}", 1400.0)
    b.nat("platform", "storefront", "storefront-prod-nat-a", 700.0)
    b.ec2(
        "platform",
        "observability",
        "prod",
        "shared",
        "prometheus",
        "m6i.2xlarge",
        3,
        "flat",
        covered=True,
        disk_gb=1000,
    )
    b.ec2("platform", "observability", "prod", "shared", "grafana", "m6i.xlarge", 2, "flat", covered=True)
    b.ec2("platform", "ci", "prod", "shared", "runner", "c6i.2xlarge", 6, "workday", disk_gb=200)
    for purpose, gb in (("cloudtrail", 9000), ("alb-logs", 4000), ("vpc-flow-logs", 7000), ("backups", 25000)):
        b.bucket("platform", "logging", "prod", "shared", purpose, gb, 2.0e6)
    b.llm_key(
        "ant-platform",
        "code-review-bot",
        "prod",
        "code-review-bot",
        "claude-sonnet-4-5",
        (1.4e7, 1.2e6, 2.2e7),
        "ai_work",
    )


def _nonprod(b: OrgBuilder) -> None:
    b.asg("storefront", "web", "web-staging", "nonprod", "m5.large", 1, 4, 1.3, b.rhythm.workday + 0.01)
    for team, app in (
        ("storefront", "checkout-api"),
        ("payments", "payments-api"),
        ("search", "search-api"),
        ("data-platform", "etl"),
        ("growth", "support-assistant"),
        ("platform", "ci"),
    ):
        b.ec2(team, app, "staging", "nonprod", "web", "t3.large", 2, "workday", disk_gb=50)
        b.ec2(team, app, "dev", "nonprod", "box", "t3.large", 1, "workday", disk_gb=50)
        b.bucket(team, app, "staging", "nonprod", "artifacts", 400, 5.0e4)


def _orphans(b: OrgBuilder) -> None:
    """Resources nobody can attribute with certainty: the ambiguous part of the untagged set."""
    bob = person("bob")
    specs = [
        ("shared", "tmp-migration-box-01", "m5.large", "platform"),
        ("nonprod", "jenkins-old", "c6i.xlarge", "storefront"),
        ("nonprod", "test-instance-3", "t3.large", "search"),
    ]
    for acct, name, itype, true_team in specs:
        account = ACCOUNTS[acct]
        r = b.rng("orphan", name)
        pos, created = b.when(name, None)
        res = b.add(
            Resource(
                "i-0" + hex_id(r, 16),
                name,
                "instance",
                account,
                account.region,
                true_team,
                "dev",
                "unknown",
                None,
                pos,
                None,
                created,
                bob,
                "RunInstances",
                None,
                [mt.box_usage(account.region, itype, EC2_PRICE[itype], "flat")],
                az=account.region + "b",
                create_params={"instanceType": itype, "imageId": "ami-0" + hex_id(r, 16)},
            )
        )
        res.ambiguous = True
    for acct, purpose, true_team in (
        ("shared", "misc-exports", "data-platform"),
        ("nonprod", "scratch-2025", "ml-platform"),
    ):
        name = f"acme-{purpose}"
        pos, created = b.when(name, None)
        account = ACCOUNTS[acct]
        res = b.add(
            Resource(
                name,
                name,
                "bucket",
                account,
                account.region,
                true_team,
                "dev",
                "unknown",
                None,
                pos,
                None,
                created,
                bob,
                "CreateBucket",
                None,
                [mt.s3_storage(account.region, 1500.0), mt.s3_requests(account.region, 2e4)],
            )
        )
        res.ambiguous = True
