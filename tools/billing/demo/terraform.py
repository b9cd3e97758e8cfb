"""Terraform and app-config text of the demo org's infra repo (rendered from the inventory)."""

from __future__ import annotations

from tools.billing.demo.catalogue import TEAMS
from tools.billing.demo.model import Resource

TF_TYPES = {
    "instance": "aws_instance",
    "volume": "aws_ebs_volume",
    "bucket": "aws_s3_bucket",
    "db": "aws_db_instance",
    "function": "aws_lambda_function",
    "distribution": "aws_cloudfront_distribution",
    "natgateway": "aws_nat_gateway",
    "endpoint": "aws_sagemaker_endpoint",
    "inference-profile": "aws_bedrock_inference_profile",
    "Virtual machine": "azurerm_linux_virtual_machine",
    "Disk": "azurerm_managed_disk",
    "Storage account": "azurerm_storage_account",
    "SQL database": "azurerm_mssql_database",
}


def tf_address(res: Resource) -> str:
    return f"{TF_TYPES[res.rtype]}.{res.name.replace('-', '_')}"


def _tags_block(res: Resource, indent: str = "  ") -> list[str]:
    tags = (
        {"Name": res.name, **res.tags}
        if res.rtype not in ("Virtual machine", "Disk", "Storage account", "SQL database")
        else dict(res.tags)
    )
    if not tags:
        return []
    width = max(len(k) for k in tags)
    lines = [f"{indent}tags = {{"]
    lines += [f'{indent}  {k.ljust(width)} = "{v}"' for k, v in tags.items()]
    lines.append(f"{indent}}}")
    return lines


def _body(res: Resource) -> list[str]:
    p = res.create_params
    if res.rtype == "instance":
        return [
            f'  ami           = "{p.get("imageId", "ami-0")}"',
            f'  instance_type = "{p["instanceType"]}"',
            "  subnet_id     = var.private_subnet_ids[0]",
        ]
    if res.rtype == "volume":
        return [
            f'  availability_zone = "{p["availabilityZone"]}"',
            f"  size              = {p['size']}",
            '  type              = "gp3"',
        ]
    if res.rtype == "bucket":
        return [f'  bucket = "{res.name}"']
    if res.rtype == "db":
        return [
            f'  identifier        = "{res.name}"',
            '  engine            = "postgres"',
            f'  instance_class    = "{p["dBInstanceClass"]}"',
            f"  allocated_storage = {p['allocatedStorage']}",
        ]
    if res.rtype == "function":
        return [
            f'  function_name = "{res.name}"',
            '  runtime       = "python3.12"',
            "  memory_size   = 1024",
            f'  handler       = "{res.app.replace("-", "_")}.handler"',
        ]
    if res.rtype == "endpoint":
        return [
            f'  name                 = "{res.name}"',
            f"  endpoint_config_name = aws_sagemaker_endpoint_configuration.{res.name.replace('-', '_')}.name",
        ]
    if res.rtype == "natgateway":
        return ["  allocation_id = aws_eip.nat.id", "  subnet_id     = var.public_subnet_ids[0]"]
    if res.rtype == "inference-profile":
        return [
            f'  name = "{res.name}"',
            "  model_source {",
            '    copy_from = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"',
            "  }",
        ]
    if res.rtype == "distribution":
        return ["  enabled = true", '  price_class = "PriceClass_100"']
    return [
        f'  name                = "{res.name}"',
        f'  resource_group_name = "rg-{res.app}-prod"',
        f'  location            = "{res.region}"',
    ]


def render_resource(res: Resource) -> str:
    head = f'resource "{TF_TYPES[res.rtype]}" "{res.name.replace("-", "_")}" {{'
    extra: list[str] = []
    if res.rtype == "endpoint":
        cfg = res.name.replace("-", "_")
        extra = [
            f'resource "aws_sagemaker_endpoint_configuration" "{cfg}" {{',
            f'  name = "{res.name}-config"',
            "  production_variants {",
            '    variant_name           = "AllTraffic"',
            f'    instance_type          = "{res.create_params["instanceType"]}"',
            f"    initial_instance_count = {res.create_params['initialInstanceCount']}",
            "  }",
            "}",
            "",
        ]
    return "\n".join([*extra, head, *_body(res), *_tags_block(res), "}", ""])


def render_file(resources: list[Resource], header: str) -> str:
    return f"# {header}\n# Managed by Terraform; apply through the deploy workflow only.\n\n" + "\n".join(
        render_resource(r) for r in resources
    )


def asg_file(name: str, team: str, app: str, itype: str, min_size: int, max_size: int) -> str:
    cc = TEAMS[team].cost_center
    env = "prod" if "prod" in name else "staging"
    ident = name.replace("-", "_")
    return f'''# {app}: Auto Scaling group {name}

resource "aws_launch_template" "{ident}" {{
  name_prefix   = "{name}-"
  image_id      = data.aws_ami.{app.replace("-", "_")}.id
  instance_type = "{itype}"
}}

resource "aws_autoscaling_group" "{ident}" {{
  name                = "{name}"
  min_size            = {min_size}
  max_size            = {max_size}
  vpc_zone_identifier = var.private_subnet_ids
  target_group_arns   = [aws_lb_target_group.{ident}.arn]

  launch_template {{
    id      = aws_launch_template.{ident}.id
    version = "$Latest"
  }}

  dynamic "tag" {{
    for_each = {{
      Name        = "{name}"
      team        = "{team}"
      env         = "{env}"
      cost_center = "{cc}"
      app         = "{app}"
    }}
    content {{
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }}
  }}
}}
'''


def codeowners() -> str:
    lines = ["# Code owners: the team that owns each part of the infrastructure", ""]
    for team in TEAMS:
        lines.append(f"/terraform/teams/{team}/ @acme/{team}")
    lines += [
        "/terraform/shared/ @acme/platform",
        "/terraform/azure/analytics/ @acme/data-platform",
        "/terraform/azure/marketing-site/ @acme/growth",
    ]
    return "\n".join(lines) + "\n"


APP_OWNERS = {
    "web": "storefront",
    "checkout-api": "storefront",
    "payments-api": "payments",
    "fraud-scorer": "payments",
    "search-api": "search",
    "search-indexer": "search",
    "etl": "data-platform",
    "recsys": "ml-platform",
    "support-assistant": "growth",
    "product-copy": "growth",
    "email-campaigns": "growth",
    "code-review-bot": "platform",
}


def app_config(app: str, version: str, overrides: dict[str, str] | None = None) -> str:
    values = {
        "service": app,
        "owner": APP_OWNERS[app],
        "image": f"ghcr.io/acme/{app}:{version}",
        "log_level": "info",
        "replicas": "3",
    }
    if app == "support-assistant":
        values.update(
            {
                "model": "claude-sonnet-4-5",
                "fallback_model": "claude-haiku-4-5",
                "max_agent_iterations": "8",
                "retry_on_tool_error": "false",
                "max_output_tokens": "1024",
            }
        )
    if app == "search-indexer":
        values.update(
            {
                "embedding_source": "s3://acme-search-indexer-prod-snapshots/embeddings/",
                "batch_size": "512",
                "schedule": "0 */2 * * *",
            }
        )
    values.update(overrides or {})
    return "".join(f"{k}: {v}\n" for k, v in values.items())


AGENT_PY = '''"""Support assistant: answers tickets with tools; bounded by max_agent_iterations."""

import yaml


def load_config(path="config.yaml"):
    with open(path) as f:
        return yaml.safe_load(f)


def run(ticket, llm, tools, config):
    messages = [{"role": "user", "content": ticket}]
    for _ in range(int(config["max_agent_iterations"])):
        reply = llm.complete(messages, model=config["model"], max_tokens=int(config["max_output_tokens"]))
        if not reply.tool_calls:
            return reply.text
        for call in reply.tool_calls:
            try:
                messages.append(tools.run(call))
            except Exception as exc:
                if config.get("retry_on_tool_error"):
                    continue
                messages.append({"role": "tool", "content": f"error: {exc}"})
    return "Escalating to a human agent."
'''
