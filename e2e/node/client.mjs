#!/usr/bin/env node
// A scriptable MCP client built on the TypeScript SDK, used by toolgate's tests
// (see internal/testpeer.NodeClient) to talk to the gateway the way a real
// third-party agent would.
//
// Usage:
//   node e2e/node/client.mjs [--header 'Name: value']... --url http://127.0.0.1:PORT/mcp [script.json]
//   node e2e/node/client.mjs [--header ...]... [script.json] --stdio CMD ARGS...
//
// With --url, a non-empty TOOLGATE_E2E_TOKEN in the environment is sent as
// "Authorization: Bearer <token>" on every request (unless a --header sets
// Authorization): a token there does not show in the process list, as one in
// a --header argument would.
//
// The script (a file, or stdin when absent or "-") is a JSON list of steps:
//   [{"op":"listTools"},
//    {"op":"callTool","name":"echo","arguments":{"message":"hi"}},
//    {"op":"callTool","name":"slow","arguments":{"ms":300},"progress":true,"timeoutMs":5000}]
// ops: listTools, callTool{name,arguments}, listResources, readResource{uri},
//      listPrompts, getPrompt{name,arguments}, ping, request{method,params},
//      httpGet{url} (a plain GET, e.g. for the test to act between two steps:
//      result {"status","body"}).
// Any step may set "timeoutMs" and "progress" (collect progress notifications).
//
// Output: one JSON line for the connection ({"protocolVersion","serverInfo",
// "capabilities"}), then one line per step: {"op","result"[,"progress"]} or
// {"op","error":{"code","message","data"}}. Exit status is 0 unless the
// connection itself fails (then a {"error":...} line and exit 1).
// Sampling requests from the server are answered with "sampled: <prompt>".

import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CreateMessageRequestSchema, ResultSchema } from "@modelcontextprotocol/sdk/types.js";

function parseArgs(argv) {
  const opts = { headers: {}, url: null, stdio: null, script: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--url") opts.url = argv[++i];
    else if (a === "--header") {
      const h = argv[++i];
      const at = h.indexOf(":");
      opts.headers[h.slice(0, at).trim()] = h.slice(at + 1).trim();
    } else if (a === "--stdio") {
      opts.stdio = argv.slice(i + 1);
      break;
    } else opts.script = a;
  }
  const token = process.env.TOOLGATE_E2E_TOKEN;
  const named = Object.keys(opts.headers).some((k) => k.toLowerCase() === "authorization");
  if (token && !named) opts.headers.Authorization = `Bearer ${token}`;
  if (!opts.url === !opts.stdio || (opts.stdio && opts.stdio.length === 0)) {
    console.error("usage: client.mjs [--header 'K: V']... (--url URL [script.json] | [script.json] --stdio CMD ARGS...)");
    process.exit(2);
  }
  return opts;
}

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

function errorJSON(e) {
  const err = { message: String(e?.message ?? e) };
  if (e && typeof e.code === "number") {
    err.code = e.code;
    err.message = err.message.replace(/^MCP error -?\d+: /, "");
  }
  if (e?.data !== undefined) err.data = e.data;
  if (e?.name && e.name !== "Error" && e.name !== "McpError") err.name = e.name;
  return err;
}

function textOf(content) {
  const parts = Array.isArray(content) ? content : [content];
  return parts.filter((c) => c?.type === "text").map((c) => c.text).join("");
}

async function runStep(client, step) {
  const progress = [];
  const options = {};
  if (step.timeoutMs) options.timeout = step.timeoutMs;
  if (step.progress) options.onprogress = (p) => progress.push(p);
  const ops = {
    listTools: () => client.listTools(step.params, options),
    callTool: () => client.callTool({ name: step.name, arguments: step.arguments ?? {} }, undefined, options),
    listResources: () => client.listResources(step.params, options),
    readResource: () => client.readResource({ uri: step.uri }, options),
    listPrompts: () => client.listPrompts(step.params, options),
    getPrompt: () => client.getPrompt({ name: step.name, arguments: step.arguments ?? {} }, options),
    ping: () => client.ping(options),
    request: () => client.request({ method: step.method, params: step.params }, ResultSchema, options),
    httpGet: async () => {
      const r = await fetch(step.url, { signal: AbortSignal.timeout(step.timeoutMs ?? 30000) });
      return { status: r.status, body: await r.text() };
    },
  };
  const line = { op: step.op };
  try {
    if (!ops[step.op]) throw new Error(`unknown op ${JSON.stringify(step.op)}`);
    line.result = await ops[step.op]();
  } catch (e) {
    line.error = errorJSON(e);
  }
  if (step.progress) line.progress = progress;
  return line;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const src = !opts.script || opts.script === "-" ? readFileSync(0, "utf8") : readFileSync(opts.script, "utf8");
  const steps = JSON.parse(src || "[]");

  const client = new Client({ name: "toolgate-e2e-node", version: "0.0.0" }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, (req) => {
    const last = req.params.messages.at(-1);
    return {
      role: "assistant",
      model: "toolgate-e2e-node",
      content: { type: "text", text: `sampled: ${textOf(last?.content)}` },
      stopReason: "endTurn",
    };
  });

  const transport = opts.url
    ? new StreamableHTTPClientTransport(new URL(opts.url), { requestInit: { headers: opts.headers } })
    : new StdioClientTransport({ command: opts.stdio[0], args: opts.stdio.slice(1), stderr: "inherit" });
  // The SDK tells the transport the negotiated version; remember it on the way.
  let protocolVersion;
  const setVersion = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (v) => {
    protocolVersion = v;
    setVersion?.(v);
  };

  try {
    await client.connect(transport);
  } catch (e) {
    out({ error: errorJSON(e) });
    console.error(`client.mjs: connect failed: ${e?.message ?? e}`);
    process.exit(1);
  }
  out({ protocolVersion, serverInfo: client.getServerVersion(), capabilities: client.getServerCapabilities() });
  for (const step of steps) out(await runStep(client, step));
  await client.close();
}

await main();
