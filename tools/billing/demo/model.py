"""The demo org's data model: identities, resources and the meters each resource is billed on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from tools.billing.demo.catalogue import DOMAIN, PEOPLE, Account

SSO_ROLE = "AWSReservedSSO_PowerUserAccess_7c1e9f2a4b3d5e6f"


@dataclass(frozen=True)
class Identity:
    """Who did something: an SSO user, an IAM role (CI, pipelines) or an AWS service."""

    kind: str  # user | role | service
    name: str  # person key, role name, or service principal (autoscaling.amazonaws.com)
    session: str | None = None

    @property
    def label(self) -> str:
        """How a person reads it: alice@acme.example, role terraform-payments, autoscaling.amazonaws.com."""
        if self.kind == "user":
            return f"{self.name}@{DOMAIN}"
        return f"role/{self.name}" if self.kind == "role" else self.name

    @property
    def team(self) -> str | None:
        if self.kind == "user":
            return PEOPLE.get(self.name)
        if self.kind == "role" and self.name.startswith("terraform-"):
            return self.name.removeprefix("terraform-")
        return None

    def arn(self, account_id: str) -> str:
        if self.kind == "user":
            return f"arn:aws:sts::{account_id}:assumed-role/{SSO_ROLE}/{self.name}@{DOMAIN}"
        if self.kind == "role":
            return f"arn:aws:sts::{account_id}:assumed-role/{self.name}/{self.session or 'session'}"
        return f"arn:aws:sts::{account_id}:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling"


def person(name: str) -> Identity:
    return Identity("user", name)


def terraform(team: str) -> Identity:
    return Identity("role", f"terraform-{team}", "GitHubActions")


@dataclass
class Meter:
    """One billed dimension of a resource (a line in the bill): instance hours, GB-months, tokens ..."""

    key: str
    service: str  # key into catalogue.SERVICES
    usage_type: str
    operation: str
    sku_meter: str
    description: str
    consumed_unit: str
    pricing_unit: str
    price: float  # list price per pricing unit
    base: float  # daily quantity (consumed units) at factor 1
    driver: str  # flat | traffic | batch | workday | storage | ai | ai_work | explicit
    block: float = 1.0  # PricingQuantity = ConsumedQuantity / block
    details: dict[str, Any] = field(default_factory=dict)
    covered: bool = False  # by the Savings Plan
    spot: bool = False
    cap: float | None = None  # max per day (24 hours)
    noise: float = 0.05
    start: float | None = None  # active window in day units (None: the resource's)
    end: float | None = None
    explicit: np.ndarray | None = None  # daily quantity, overrides base x driver
    mult_windows: list[tuple[float, float, float]] = field(default_factory=list)
    add_windows: list[tuple[float, float, float]] = field(default_factory=list)


@dataclass
class Resource:
    """A billed resource with its true owner, its emitted tags and how it came to exist."""

    rid: str
    name: str
    rtype: str
    account: Account
    region: str | None
    team: str
    env: str
    app: str
    ai_feature: str | None
    start: float  # day units relative to first_day (negative: existed before)
    end: float | None
    created: datetime
    creator: Identity
    create_event: str | None  # CloudTrail eventName that created it (AWS)
    iac_path: str | None
    meters: list[Meter]
    az: str | None = None
    create_params: dict[str, Any] = field(default_factory=dict)
    tag_state: str = "full"  # full | partial | none
    ambiguous: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    true_tags: dict[str, str] = field(default_factory=dict)
    tf_name: str | None = None  # Terraform resource address when defined in IaC
