"""One definition per tool: typed pydantic input and output, docstring as description.

Both the agent loop and the MCP server register the same :data:`tools.REGISTRY`. A tool is a plain
function ``(ctx: ToolContext, args: InputModel) -> OutputModel`` decorated with :func:`tool`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, get_type_hints

from pydantic import BaseModel, ValidationError

from tools.context import ToolContext
from tools.errors import ToolError

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


@dataclass(frozen=True)
class Tool:
    """A registered tool: what front ends need to offer it and call it."""

    name: str
    title: str
    description: str
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    func: Callable[[ToolContext, Any], BaseModel]
    read_only: bool = True
    uses_llm: bool = False

    def input_schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments, without pydantic's per-field titles (every token here is
        paid on every model call, and a title only repeats the property name)."""
        schema: dict[str, Any] = _drop_titles(self.input_model.model_json_schema())
        return schema

    def validate(self, raw: dict[str, Any] | None) -> BaseModel:
        """Validate raw JSON arguments; a bad argument is a ToolError the model can fix."""
        try:
            return self.input_model.model_validate(raw or {})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}" for err in exc.errors()
            )
            raise ToolError(f"bad arguments for {self.name}: {problems}") from None

    def call(self, ctx: ToolContext, raw: dict[str, Any] | None) -> BaseModel:
        return self.func(ctx, self.validate(raw))


def _drop_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _drop_titles(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_drop_titles(v) for v in node]
    return node


_TOOLS: dict[str, Tool] = {}


def tool(
    name: str | None = None, *, title: str | None = None, read_only: bool = True, uses_llm: bool = False
) -> Callable[[Callable[[ToolContext, In], Out]], Callable[[ToolContext, In], Out]]:
    """Register a function as a tool. Its docstring is the description the model reads."""

    def register(func: Callable[[ToolContext, In], Out]) -> Callable[[ToolContext, In], Out]:
        hints = get_type_hints(func)
        params = list(inspect.signature(func).parameters)
        if len(params) != 2:
            raise TypeError(f"tool {func.__name__} must take (ctx, args)")
        input_model = hints[params[1]]
        output_model = hints["return"]
        tool_name = name or func.__name__
        doc = inspect.getdoc(func) or ""
        _TOOLS[tool_name] = Tool(
            name=tool_name,
            title=title or tool_name.replace("_", " ").capitalize(),
            description=doc,
            input_model=input_model,
            output_model=output_model,
            func=func,
            read_only=read_only,
            uses_llm=uses_llm,
        )
        return func

    return register


def registered() -> dict[str, Tool]:
    return dict(_TOOLS)
