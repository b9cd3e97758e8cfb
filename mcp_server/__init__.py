"""The MCP server: every tool of `tools.REGISTRY` over stdio or streamable HTTP (`finops mcp`).

`server.build_server` builds it; `adapter` turns registry tools into read-only MCP tools with bounded
results and error results; `http` adds the transport checks; `ask_tool` is the one tool that calls
the agent.
"""
