#!/usr/bin/env node
// A deliberately naive MCP server on stdio, used by toolgate's security
// tests as an upstream that records what it executed.
//
// Usage:
//   node e2e/node/record-server.mjs --record FILE [--sdk]
//
// Without --sdk it reads stdin the way the most permissive line readers
// do: it splits on \n, \r, \r\n, U+2028, U+2029 and U+0085, and parses each
// piece with JSON.parse (keys matched exactly; of duplicate keys the last
// wins). A gateway that forwards a body with a raw line break in it would
// make this server run the second "line" as a request of its own.
//
// With --sdk it is a TypeScript-SDK server instead (Server with
// StdioServerTransport), which splits on \n only.
//
// Tools (each tools/call appends {"name", "arguments", "id"} as one JSON line to
// FILE before running, with the request's id, so the file is the server's
// own record of every call it executed):
//   echo {message}                     returns message
//   UpdateUser {user_id, skip_password_checks, password}
//   DeleteUser {user_id}
//   env {}                             returns the server's environment
import { appendFileSync } from "node:fs";

const args = process.argv.slice(2);
const at = args.indexOf("--record");
if (at < 0 || !args[at + 1]) {
  console.error("usage: record-server.mjs --record FILE [--sdk]");
  process.exit(2);
}
const recordFile = args[at + 1];

const tools = [
  { name: "echo", description: "Returns the message.",
    inputSchema: { type: "object", properties: { message: { type: "string" } } } },
  { name: "UpdateUser", description: "Updates a user.",
    inputSchema: { type: "object", properties: {
      user_id: { type: "string" }, skip_password_checks: { type: "boolean" }, password: { type: "string" } },
      required: ["user_id"] } },
  { name: "DeleteUser", description: "Deletes a user.",
    inputSchema: { type: "object", properties: { user_id: { type: "string" } }, required: ["user_id"] } },
  { name: "env", description: "Returns the server's environment.",
    inputSchema: { type: "object", properties: {} } },
];

function execute(name, args, id) {
  appendFileSync(recordFile, JSON.stringify({ name, arguments: args ?? null, id }) + "\n");
  switch (name) {
    case "echo":
      return { content: [{ type: "text", text: String(args?.message ?? "") }] };
    case "UpdateUser":
      return { content: [{ type: "text", text: `updated ${args?.user_id} skip=${args?.skip_password_checks === true}` }] };
    case "DeleteUser":
      return { content: [{ type: "text", text: `deleted ${args?.user_id}` }] };
    case "env":
      return { content: [{ type: "text", text: JSON.stringify(process.env) }] };
  }
  return { content: [{ type: "text", text: `unknown tool ${name}` }], isError: true };
}

if (args.includes("--sdk")) {
  const { Server } = await import("@modelcontextprotocol/sdk/server/index.js");
  const { StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js");
  const { ListToolsRequestSchema, CallToolRequestSchema } = await import("@modelcontextprotocol/sdk/types.js");
  const server = new Server({ name: "record-sdk", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => execute(req.params.name, req.params.arguments, extra.requestId));
  await server.connect(new StdioServerTransport());
} else {
  const send = (msg) => process.stdout.write(JSON.stringify(msg) + "\n");
  const handle = (msg) => {
    if (msg === null || typeof msg !== "object" || msg.id === undefined || typeof msg.method !== "string") return;
    const p = msg.params ?? {};
    switch (msg.method) {
      case "initialize":
        return send({ jsonrpc: "2.0", id: msg.id, result: {
          protocolVersion: p.protocolVersion ?? "2025-06-18",
          capabilities: { tools: {} }, serverInfo: { name: "record-naive", version: "1.0.0" } } });
      case "ping":
        return send({ jsonrpc: "2.0", id: msg.id, result: {} });
      case "tools/list":
        return send({ jsonrpc: "2.0", id: msg.id, result: { tools } });
      case "tools/call":
        return send({ jsonrpc: "2.0", id: msg.id, result: execute(p.name, p.arguments, msg.id) });
    }
    // Anything else is "executed" too, so a test can see it arrived.
    appendFileSync(recordFile, JSON.stringify({ method: msg.method, params: p, id: msg.id }) + "\n");
    send({ jsonrpc: "2.0", id: msg.id, result: {} });
  };
  let buf = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => {
    buf += chunk;
    const pieces = buf.split(/\r\n|\r|\n|\u2028|\u2029|\u0085/);
    buf = pieces.pop();
    for (const piece of pieces) {
      if (piece.trim() === "") continue;
      let msg;
      try {
        msg = JSON.parse(piece);
      } catch {
        send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
        continue;
      }
      handle(msg);
    }
  });
}
