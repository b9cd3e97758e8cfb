"""Meter factories: how each kind of resource shows up on the bill (usage types, units, list prices)."""

from __future__ import annotations

import numpy as np

from tools.billing.demo.catalogue import MODELS, REGION_PREFIX, REGION_PRICE
from tools.billing.demo.model import Meter

GB_MONTH_PER_DAY = 12.0 / 365.0
"""Storage is billed in GB-months; a day of 1 GB stored is 12/365 GB-months."""


def _prefix(region: str | None) -> str:
    return REGION_PREFIX.get(region or "", "")


def box_usage(
    region: str,
    itype: str,
    price: float,
    driver: str,
    *,
    covered: bool = False,
    spot: bool = False,
    explicit: np.ndarray | None = None,
) -> Meter:
    kind = "SpotUsage" if spot else "BoxUsage"
    usage = f"{kind}:{itype}" if region == "us-east-1" else f"{_prefix(region)}{kind}:{itype}"
    label = "Spot" if spot else "On Demand"
    base = 12.0 if driver == "workday" else 24.0
    return Meter(
        "box",
        "ec2",
        usage,
        "RunInstances",
        "Compute Usage",
        f"${price:.4f} per {label} Linux {itype} Instance Hour",
        "Hours",
        "Hours",
        price,
        base,
        driver,
        details={"InstanceType": itype, "OperatingSystem": "Linux", "Tenancy": "Shared"},
        covered=covered,
        spot=spot,
        cap=24.0,
        noise=0.0 if driver in ("flat", "explicit") else 0.04,
        explicit=explicit,
    )


def data_transfer_out(region: str, gb: float, driver: str, service: str = "transfer") -> Meter:
    return Meter(
        "egress",
        service,
        f"{_prefix(region)}DataTransfer-Out-Bytes",
        "RunInstances",
        "Data Transfer Out",
        "$0.09 per GB - first 10 TB / month data transfer out beyond the global free tier",
        "GB",
        "GB",
        0.09,
        gb,
        "traffic" if driver == "flat" else driver,
        details={"TransferType": "InternetOut"},
        noise=0.12,
    )


def ebs(region: str, gb: float) -> Meter:
    price = 0.08 * REGION_PRICE[region]
    return Meter(
        "storage",
        "ebs",
        f"{_prefix(region)}EBS:VolumeUsage.gp3",
        "CreateVolume-Gp3",
        "Storage",
        f"${price:.3f} per GB-month of General Purpose (gp3) provisioned storage",
        "GB-Months",
        "GB-Months",
        price,
        gb * GB_MONTH_PER_DAY,
        "flat",
        details={"VolumeType": "gp3"},
        noise=0.0,
    )


def s3_storage(region: str, gb: float) -> Meter:
    return Meter(
        "storage",
        "s3",
        f"{_prefix(region)}TimedStorage-ByteHrs",
        "StandardStorage",
        "Storage",
        "$0.023 per GB - first 50 TB / month of storage used",
        "GB-Months",
        "GB-Months",
        0.023,
        gb * GB_MONTH_PER_DAY,
        "storage",
        details={"StorageClass": "Standard"},
        noise=0.01,
    )


def s3_requests(region: str, puts: float) -> Meter:
    return Meter(
        "requests",
        "s3",
        f"{_prefix(region)}Requests-Tier1",
        "PutObject",
        "Requests",
        "$0.005 per 1,000 PUT, COPY, POST, or LIST requests",
        "Requests",
        "1000 Requests",
        0.005,
        puts,
        "batch",
        block=1000.0,
        noise=0.15,
    )


def rds_instance(region: str, cls: str) -> Meter:
    from tools.billing.demo.catalogue import RDS_PRICE

    price = RDS_PRICE[cls] * REGION_PRICE[region]
    return Meter(
        "instance",
        "rds",
        f"{_prefix(region)}InstanceUsage:{cls}",
        "CreateDBInstance:0014",
        "Database Instance",
        f"${price:.3f} per RDS {cls} Single-AZ instance hour (or partial hour) running PostgreSQL",
        "Hours",
        "Hours",
        price,
        24.0,
        "flat",
        details={"InstanceType": cls, "DatabaseEngine": "PostgreSQL"},
        cap=24.0,
        noise=0.0,
    )


def rds_storage(region: str, gb: float) -> Meter:
    return Meter(
        "storage",
        "rds",
        f"{_prefix(region)}RDS:GP3-Storage",
        "CreateDBInstance:0014",
        "Storage",
        "$0.115 per GB-month of provisioned gp3 storage running PostgreSQL",
        "GB-Months",
        "GB-Months",
        0.115,
        gb * GB_MONTH_PER_DAY,
        "flat",
        noise=0.0,
    )


def lambda_meters(region: str, requests: float, gbs: float) -> list[Meter]:
    return [
        Meter(
            "requests",
            "lambda",
            f"{_prefix(region)}Request",
            "Invoke",
            "Requests",
            "AWS Lambda - Total Requests - $0.20 per million",
            "Requests",
            "1000000 Requests",
            0.20,
            requests,
            "traffic",
            block=1e6,
            noise=0.08,
        ),
        Meter(
            "duration",
            "lambda",
            f"{_prefix(region)}Lambda-GB-Second",
            "Invoke",
            "Duration",
            "AWS Lambda - Total Compute - $0.0000166667 per GB-second",
            "GB-Seconds",
            "GB-Seconds",
            0.0000166667,
            gbs,
            "traffic",
            noise=0.08,
        ),
    ]


def cloudfront_meters(gb: float, requests: float) -> list[Meter]:
    return [
        Meter(
            "egress",
            "cloudfront",
            "US-DataTransfer-Out-Bytes",
            "GET",
            "Data Transfer Out",
            "$0.085 per GB - first 10 TB / month data transfer out (United States)",
            "GB",
            "GB",
            0.085,
            gb,
            "traffic",
            noise=0.06,
        ),
        Meter(
            "requests",
            "cloudfront",
            "US-Requests-Tier2-HTTPS",
            "GET",
            "Requests",
            "$0.0100 per 10,000 HTTPS Requests",
            "Requests",
            "10000 Requests",
            0.01,
            requests,
            "traffic",
            block=1e4,
            noise=0.06,
        ),
    ]


def nat_hours(region: str) -> Meter:
    return Meter(
        "hours",
        "vpc",
        f"{_prefix(region)}NatGateway-Hours",
        "NatGateway",
        "NAT Gateway Hours",
        "$0.045 per NAT Gateway Hour",
        "Hours",
        "Hours",
        0.045,
        24.0,
        "flat",
        cap=24.0,
        noise=0.0,
    )


def nat_bytes(region: str, gb: float) -> Meter:
    return Meter(
        "bytes",
        "vpc",
        f"{_prefix(region)}NatGateway-Bytes",
        "NatGateway",
        "NAT Gateway Data Processed",
        "$0.045 per GB Data Processed by NAT Gateways",
        "GB",
        "GB",
        0.045,
        gb,
        "batch",
        noise=0.1,
    )


def sagemaker_hosting(region: str, itype: str, price: float) -> Meter:
    return Meter(
        "hosting",
        "sagemaker",
        f"{_prefix(region)}Host:{itype}",
        "RunInstance",
        "Hosting Instance Hours",
        f"${price:.3f} per Hosting {itype} hour in {region}",
        "Hours",
        "Hours",
        price,
        24.0,
        "flat",
        details={"InstanceType": itype, "Component": "Hosting"},
        cap=24.0,
        noise=0.0,
    )


def sagemaker_training(region: str, itype: str, price: float, explicit: np.ndarray) -> Meter:
    return Meter(
        "training",
        "sagemaker",
        f"{_prefix(region)}Train:{itype}",
        "RunInstance",
        "Training Instance Hours",
        f"${price:.3f} per Training {itype} hour in {region}",
        "Hours",
        "Hours",
        price,
        0.0,
        "explicit",
        details={"InstanceType": itype, "Component": "Training"},
        noise=0.0,
        explicit=explicit,
    )


TOKEN_KINDS = (
    ("input", "Input Tokens", "Input", "Uncached"),
    ("output", "Output Tokens", "Output", None),
    ("cache_read", "Cache Read Input Tokens", "Input", "Read"),
)


def token_meters(
    service: str, region: str | None, model_id: str, tokens: tuple[float, float, float], driver: str
) -> list[Meter]:
    """One meter per token type, priced per million tokens, as in the FOCUS AI billing examples."""
    model = MODELS[model_id]
    prices = (model.input, model.output, model.cache_read)
    out = []
    for (key, meter, direction, cache), price, qty in zip(TOKEN_KINDS, prices, tokens, strict=True):
        short = model_id.split(".")[-1].split("-v1")[0] if service == "bedrock" else model_id
        details: dict[str, object] = {
            "ModelDeveloper": model.developer,
            "ModelFamily": model.family,
            "ModelId": model_id,
            "ModelVersion": model.version,
            "TokenDirection": direction,
        }
        if cache:
            details["TokenCacheAction"] = cache
        if service == "bedrock":
            usage = f"{_prefix(region)}{short}-{key.replace('_', '-')}-tokens"
            sku = meter
        else:
            usage = f"{model_id}-{key.replace('_', '-')}"
            sku = meter
        verb = "generated by" if key == "output" else "consumed by"
        out.append(
            Meter(
                key,
                service,
                usage,
                "InvokeModel" if service == "bedrock" else "messages",
                sku,
                f"{meter} {verb} {model.family} {model.version}",
                "Tokens",
                "1000000 Tokens",
                price,
                qty,
                driver,
                block=1e6,
                details=details,
                noise=0.09,
            )
        )
    return out


def azure_meters(kind: str, region: str, size: str | float) -> list[Meter]:
    from tools.billing.demo.catalogue import AZURE_VM_PRICE

    f = REGION_PRICE[region]
    if kind == "vm":
        assert isinstance(size, str)
        price = AZURE_VM_PRICE[size] * f
        return [
            Meter(
                "vm",
                "az-vm",
                size,
                "Compute",
                size.removeprefix("Standard_").replace("_", " "),
                f"Virtual Machines {size} - {region}",
                "Hours",
                "1 Hour",
                price,
                24.0,
                "batch",
                details={"VMSize": size, "OperatingSystem": "Linux"},
                cap=24.0,
                noise=0.03,
            )
        ]
    if kind == "disk":
        return [
            Meter(
                "disk",
                "az-disk",
                "P15 LRS Disk",
                "Storage",
                "P15 LRS Disk",
                "Premium SSD Managed Disks P15 LRS - 1 Disk/Month",
                "Disk-Months",
                "1/Month",
                38.01 * f,
                12.0 / 365.0,
                "flat",
                details={"DiskSizeGB": int(float(size))},
                noise=0.0,
            )
        ]
    if kind == "storage":
        gb = float(size)
        return [
            Meter(
                "storage",
                "az-storage",
                "Hot LRS Data Stored",
                "Storage",
                "Hot LRS Data Stored",
                "Blob Storage - Hot LRS Data Stored",
                "GB-Months",
                "1 GB/Month",
                0.0184 * f,
                gb * GB_MONTH_PER_DAY,
                "storage",
                noise=0.01,
            )
        ]
    vcores = float(size)
    return [
        Meter(
            "vcore",
            "az-sql",
            "vCore",
            "Compute",
            "vCore",
            "SQL Database Single/Elastic Pool General Purpose - Compute Gen5 - vCore",
            "vCore Hours",
            "1 Hour",
            0.2533 * f,
            24.0 * vcores,
            "flat",
            noise=0.0,
        )
    ]
