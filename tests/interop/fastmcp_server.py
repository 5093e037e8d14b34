"""FastMCP peer for the mcp-bridge interop tests.

Runs a small MCP server from the official Python SDK (`mcp` 1.x, FastMCP) on
127.0.0.1 so the bridge can be tested against an implementation none of us wrote.

    python fastmcp_server.py --transport sse|streamable-http --port N [--token-file PATH]

With --token-file the server is a resource server (the SDK's bearer authentication): a
request must carry `Authorization: Bearer <the file's content>`, read again for every
request (so a test can rotate the token), else it gets the SDK's 401.

Tools:
  echo(message)            -> "Echo: <message>"
  long_running(steps, delay_ms) -> sends one progress notification per step,
                              then returns "Long running operation completed: <steps> steps"
  ask_name()               -> asks the client for a name (elicitation/create) mid-call,
                              returns "Hello, <name>" (or "Elicitation <action>")
  sample(prompt)           -> asks the client's LLM (sampling/createMessage) mid-call,
                              returns "Sampled: <text of the client's answer>"

Once the socket is bound the server prints one line to stdout:
    READY <transport> http://127.0.0.1:<port><path>
so the caller does not have to poll (polling the port works too).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.fastmcp import Context, FastMCP
from mcp.types import SamplingMessage, TextContent
from pydantic import BaseModel


class NameForm(BaseModel):
    name: str


class FileTokenVerifier:
    """Accepts exactly the token in a file, read at every request."""

    def __init__(self, path: str) -> None:
        self.path = path

    async def verify_token(self, token: str) -> AccessToken | None:
        with open(self.path, encoding="utf-8") as f:
            expected = f.read().strip()
        if expected and token == expected:
            return AccessToken(token=token, client_id="interop", scopes=[])
        return None


def build_server(host: str, port: int, token_file: str | None = None) -> FastMCP:
    auth = {}
    if token_file:
        auth = {
            "token_verifier": FileTokenVerifier(token_file),
            "auth": AuthSettings(
                # Nothing is ever fetched from the issuer: the verifier checks tokens itself.
                issuer_url="http://127.0.0.1:9/",
                resource_server_url=f"http://{host}:{port}/mcp",
                validate_token_resource=False,
            ),
        }
    server = FastMCP(
        name="mcp-bridge-interop-fastmcp",
        host=host,
        port=port,
        log_level="WARNING",
        **auth,
    )

    @server.tool(description="Echoes back the input string")
    def echo(message: str) -> str:
        return f"Echo: {message}"

    @server.tool(description="Sleeps in steps and reports progress after each one")
    async def long_running(ctx: Context, steps: int = 3, delay_ms: int = 200) -> str:
        for step in range(1, steps + 1):
            await asyncio.sleep(delay_ms / 1000)
            await ctx.report_progress(step, steps, f"step {step} of {steps}")
        return f"Long running operation completed: {steps} steps"

    @server.tool(description="Asks the client for a name (elicitation) and greets it")
    async def ask_name(ctx: Context) -> str:
        result = await ctx.elicit(message="What is your name?", schema=NameForm)
        if result.action == "accept" and result.data is not None:
            return f"Hello, {result.data.name}"
        return f"Elicitation {result.action}"

    @server.tool(description="Asks the client's LLM (sampling) and returns its answer")
    async def sample(ctx: Context, prompt: str) -> str:
        result = await ctx.session.create_message(
            messages=[SamplingMessage(role="user", content=TextContent(type="text", text=prompt))],
            max_tokens=50,
            related_request_id=ctx.request_id,
        )
        content = result.content
        text = content.text if isinstance(content, TextContent) else str(content)
        return f"Sampled: {text}"

    return server


async def serve(server: FastMCP, transport: str, host: str, port: int) -> None:
    import uvicorn

    if transport == "sse":
        app = server.sse_app()
        path = server.settings.sse_path
    else:
        app = server.streamable_http_app()
        path = server.settings.streamable_http_path

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    uv_server = uvicorn.Server(config)

    async def announce() -> None:
        # uvicorn sets `started` once the listening socket is bound.
        while not uv_server.started:
            if uv_server.should_exit:
                return
            await asyncio.sleep(0.02)
        print(f"READY {transport} http://{host}:{port}{path}", flush=True)

    announcer = asyncio.create_task(announce())
    try:
        await uv_server.serve()
    finally:
        announcer.cancel()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transport", choices=["sse", "streamable-http"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token-file")
    args = parser.parse_args()

    server = build_server(args.host, args.port, args.token_file)
    try:
        asyncio.run(serve(server, args.transport, args.host, args.port))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
