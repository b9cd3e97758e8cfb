"""Static facts of the demo org: teams, people, accounts, services and list prices."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

import numpy as np

DOMAIN = "acme.example"


@dataclass(frozen=True)
class Team:
    name: str
    cost_center: str
    lead: str


TEAMS: dict[str, Team] = {
    t.name: t
    for t in (
        Team("storefront", "CC-1100", "alice"),
        Team("payments", "CC-1200", "erin"),
        Team("search", "CC-1300", "frank"),
        Team("data-platform", "CC-1400", "grace"),
        Team("ml-platform", "CC-1500", "carol"),
        Team("growth", "CC-1600", "dave"),
        Team("platform", "CC-1000", "bob"),
    )
}
PEOPLE: dict[str, str] = {
    "alice": "storefront",
    "erin": "payments",
    "frank": "search",
    "grace": "data-platform",
    "carol": "ml-platform",
    "dave": "growth",
    "bob": "platform",
    "heidi": "platform",
    "ivan": "payments",
    "judy": "storefront",
    "mallory": "data-platform",
}
FULL_NAMES = {
    "alice": "Alice Martin",
    "erin": "Erin Okafor",
    "frank": "Frank Li",
    "grace": "Grace Hopper-Diaz",
    "carol": "Carol Nguyen",
    "dave": "Dave Kowalski",
    "bob": "Bob Singh",
    "heidi": "Heidi Weber",
    "ivan": "Ivan Petrov",
    "judy": "Judy Alvarez",
    "mallory": "Mallory Chen",
}


@dataclass(frozen=True)
class Account:
    """A sub-account (AWS account, Azure subscription, LLM workspace/project) and its billing account."""

    key: str
    id: str
    name: str
    provider: str  # aws | azure | anthropic | openai
    team: str | None  # the owning team when the account belongs to one team
    env: str
    region: str
    sub_type: str
    billing_id: str
    billing_name: str
    billing_type: str


AWS_PAYER = "012345678901"
AZURE_BILLING = "/providers/Microsoft.Billing/billingAccounts/84503921"
_AWS = dict(
    provider="aws",
    sub_type="Member Account",
    billing_id=AWS_PAYER,
    billing_name="Acme Corp AWS Organization",
    billing_type="Management Account",
)
_AZ = dict(
    provider="azure",
    sub_type="Subscription",
    billing_id=AZURE_BILLING,
    billing_name="Acme Corp MCA",
    billing_type="Billing Account",
)
_ANT = dict(
    provider="anthropic",
    sub_type="Workspace",
    billing_id="7c9e6679-7425-40de-944b-e07fc1f90ae7",
    billing_name="Acme Corp (Anthropic)",
    billing_type="Organization",
)
_OAI = dict(
    provider="openai",
    sub_type="Project",
    billing_id="org-Xq3LmN8pR2sT5vW7yZ1aB4cD",
    billing_name="Acme Corp (OpenAI)",
    billing_type="Organization",
)

ACCOUNTS: dict[str, Account] = {
    a.key: a
    for a in (
        Account(
            "management",
            AWS_PAYER,
            "acme-management",
            team="platform",
            env="prod",
            region="us-east-1",
            **{**_AWS, "sub_type": "Management Account"},
        ),
        Account(
            "shared", "104729384756", "acme-shared-services", team="platform", env="prod", region="us-east-1", **_AWS
        ),
        Account(
            "storefront",
            "238476512093",
            "acme-storefront-prod",
            team="storefront",
            env="prod",
            region="us-east-1",
            **_AWS,
        ),
        Account(
            "payments", "093847561234", "acme-payments-prod", team="payments", env="prod", region="us-east-1", **_AWS
        ),
        Account("search", "456789012345", "acme-search-prod", team="search", env="prod", region="us-west-2", **_AWS),
        Account("data", "567890123456", "acme-data-prod", team="data-platform", env="prod", region="us-east-1", **_AWS),
        Account("ml", "678901234567", "acme-ml-prod", team="ml-platform", env="prod", region="us-east-1", **_AWS),
        Account("growth", "345678901234", "acme-growth-prod", team="growth", env="prod", region="us-east-1", **_AWS),
        Account("nonprod", "789012345670", "acme-nonprod", team=None, env="dev", region="us-east-1", **_AWS),
        Account(
            "az-analytics",
            "/subscriptions/5b1e3c2a-8f4d-4e6b-9a7c-2d1f0e3b4a5c",
            "acme-analytics-prod",
            team="data-platform",
            env="prod",
            region="eastus",
            **_AZ,
        ),
        Account(
            "az-marketing",
            "/subscriptions/9c8d7e6f-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
            "acme-marketing",
            team="growth",
            env="prod",
            region="westeurope",
            **_AZ,
        ),
        Account(
            "ant-support",
            "wrkspc_01JcK7sP4vQ9mX2nR8tY3wZ6bA",
            "support-prod",
            team="growth",
            env="prod",
            region="global",
            **_ANT,
        ),
        Account(
            "ant-platform",
            "wrkspc_01JcK8dF5gH1jK3lM6nP9qR2sT",
            "platform-tools",
            team="platform",
            env="prod",
            region="global",
            **_ANT,
        ),
        Account(
            "oai-search", "proj_Hk2Lm4Np6Qr8St0Uv3Wx5Yz7", "search", team="search", env="prod", region="global", **_OAI
        ),
        Account(
            "oai-growth", "proj_Ab1Cd3Ef5Gh7Ij9Kl2Mn4Op6", "growth", team="growth", env="prod", region="global", **_OAI
        ),
    )
}

REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "Europe (Ireland)",
    "eastus": "East US",
    "westeurope": "West Europe",
    "global": None,
}
REGION_PREFIX = {"us-east-1": "USE1-", "us-west-2": "USW2-", "eu-west-1": "EU-"}
REGION_PRICE = {"us-east-1": 1.0, "us-west-2": 1.0, "eu-west-1": 1.07, "eastus": 1.0, "westeurope": 1.08}


@dataclass(frozen=True)
class Provider:
    name: str
    publisher: str
    invoice_issuer: str


PROVIDERS = {
    "aws": Provider("AWS", "Amazon Web Services, Inc.", "Amazon Web Services, Inc."),
    "azure": Provider("Microsoft", "Microsoft", "Microsoft"),
    "anthropic": Provider("Anthropic", "Anthropic", "Anthropic, PBC"),
    "openai": Provider("OpenAI", "OpenAI", "OpenAI, L.L.C."),
}


@dataclass(frozen=True)
class Service:
    name: str
    category: str
    subcategory: str
    code: str | None  # x_ServiceCode for AWS


SERVICES: dict[str, Service] = {
    "ec2": Service("Amazon Elastic Compute Cloud", "Compute", "Virtual Machines", "AmazonEC2"),
    "ebs": Service("Amazon Elastic Block Store", "Storage", "Block Storage", "AmazonEC2"),
    "s3": Service("Amazon Simple Storage Service", "Storage", "Object Storage", "AmazonS3"),
    "rds": Service("Amazon Relational Database Service", "Databases", "Relational Databases", "AmazonRDS"),
    "lambda": Service("AWS Lambda", "Compute", "Serverless Compute", "AWSLambda"),
    "cloudfront": Service("Amazon CloudFront", "Networking", "Content Delivery", "AmazonCloudFront"),
    "vpc": Service("Amazon Virtual Private Cloud", "Networking", "Network Infrastructure", "AmazonVPC"),
    "transfer": Service("AWS Data Transfer", "Networking", "Network Connectivity", "AWSDataTransfer"),
    "sagemaker": Service("Amazon SageMaker", "AI and Machine Learning", "Machine Learning", "AmazonSageMaker"),
    "bedrock": Service("Amazon Bedrock", "AI and Machine Learning", "Generative AI", "AmazonBedrock"),
    "support": Service("AWS Support (Business)", "Management and Governance", "Support", "AWSSupportBusiness"),
    "savingsplan": Service("Savings Plans for AWS Compute usage", "Compute", "Virtual Machines", "ComputeSavingsPlans"),
    "tax": Service("Tax", "Other", "Other", None),
    "az-vm": Service("Virtual Machines", "Compute", "Virtual Machines", None),
    "az-disk": Service("Storage", "Storage", "Block Storage", None),
    "az-storage": Service("Storage", "Storage", "Object Storage", None),
    "az-sql": Service("SQL Database", "Databases", "Relational Databases", None),
    "az-datadog": Service("Datadog", "Management and Governance", "Observability", None),
    "claude-api": Service("Claude API", "AI and Machine Learning", "Generative AI", None),
    "claude-team": Service("Claude Team", "AI and Machine Learning", "Generative AI", None),
    "openai-api": Service("OpenAI API", "AI and Machine Learning", "Generative AI", None),
}

EC2_PRICE = {
    "t3.large": 0.0832,
    "m5.large": 0.096,
    "m5.2xlarge": 0.384,
    "m6i.xlarge": 0.192,
    "m6i.2xlarge": 0.384,
    "c6i.xlarge": 0.17,
    "c6i.2xlarge": 0.34,
    "c6i.4xlarge": 0.68,
    "r6i.xlarge": 0.252,
    "r5.2xlarge": 0.504,
    "g5.xlarge": 1.006,
}
RDS_PRICE = {
    "db.t4g.medium": 0.065,
    "db.r6g.large": 0.225,
    "db.r6g.xlarge": 0.45,
    "db.r6g.2xlarge": 0.899,
    "db.r6g.8xlarge": 3.597,
}
SAGEMAKER_PRICE = {"ml.g5.2xlarge": 1.515, "ml.g5.12xlarge": 7.09, "ml.p4d.24xlarge": 37.688, "ml.m5.xlarge": 0.23}
AZURE_VM_PRICE = {"Standard_D8s_v5": 0.384, "Standard_B2ms": 0.0832}
SP_RATE = 0.72
"""Compute Savings Plan price as a share of on-demand."""
SPOT_RATE = 0.36
SAVINGS_PLAN_ARN = "arn:aws:savingsplans::012345678901:savingsplan/3f5e2a7c-91b4-4d2e-8c6f-0a7b9e1d2c34"
SAVINGS_PLAN_NAME = "Compute Savings Plan 1yr No Upfront"


@dataclass(frozen=True)
class Model:
    """An LLM with its list prices in USD per million tokens."""

    id: str
    family: str
    developer: str
    version: str
    input: float
    output: float
    cache_read: float


MODELS: dict[str, Model] = {
    m.id: m
    for m in (
        Model("claude-sonnet-4-5", "Claude Sonnet", "Anthropic", "4.5", 3.0, 15.0, 0.30),
        Model("claude-haiku-4-5", "Claude Haiku", "Anthropic", "4.5", 1.0, 5.0, 0.10),
        Model("gpt-4.1", "GPT-4.1", "OpenAI", "4.1", 2.0, 8.0, 0.50),
        Model("gpt-4.1-mini", "GPT-4.1", "OpenAI", "4.1-mini", 0.40, 1.60, 0.10),
        Model("anthropic.claude-3-5-haiku-20241022-v1:0", "Claude Haiku", "Anthropic", "3.5", 0.80, 4.0, 0.08),
    )
}


def stable_int(*parts: Any) -> int:
    """A stable 64-bit integer from the parts (Python's hash() is salted per process)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def rng_for(seed: int, *parts: Any) -> np.random.Generator:
    """An independent random stream per (seed, name): adding a resource never shifts another's draws."""
    return np.random.default_rng([seed, stable_int(*parts)])


def prng(seed: int, *parts: Any) -> random.Random:
    """A cheap scalar random stream per (seed, name), for ids, times and choices."""
    return random.Random(stable_int(seed, *parts))


def hex_id(rng: random.Random, n: int) -> str:
    return "".join(rng.choices("0123456789abcdef", k=n))


def alnum_id(rng: random.Random, n: int, upper: bool = False) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" if upper else "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choices(alphabet, k=n))


def sku_id(*parts: Any) -> str:
    """A stable AWS-style 16-character SKU for a price dimension."""
    n = stable_int("sku", *parts)
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    out = []
    for _ in range(16):
        n, r = divmod(n, len(alphabet))
        out.append(alphabet[r])
        if n == 0:
            n = stable_int("sku2", *parts, len(out))
    return "".join(out)
