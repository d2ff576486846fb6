#!/usr/bin/env node
// An MCP server on stdio that stops reading its stdin at the first
// tools/call and never answers it: the upstream a gateway must not wait on
// forever. Used by toolgate's tests (gateway/bounds_test.go).
let buf = "";
const send = (msg) => process.stdout.write(JSON.stringify(msg) + "\n");
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buf += chunk;
  let at;
  while ((at = buf.indexOf("\n")) >= 0) {
    const line = buf.slice(0, at);
    buf = buf.slice(at + 1);
    if (line.trim() === "") continue;
    const msg = JSON.parse(line);
    if (msg.method === "initialize") {
      send({ jsonrpc: "2.0", id: msg.id, result: { protocolVersion: msg.params.protocolVersion,
        capabilities: { tools: {} }, serverInfo: { name: "stuck", version: "1.0.0" } } });
    } else if (msg.method === "tools/list") {
      send({ jsonrpc: "2.0", id: msg.id, result: { tools: [{ name: "echo", inputSchema: { type: "object" } }] } });
    }
  }
  if (buf.includes('"tools/call"')) {
    process.stdin.pause(); // reads nothing more; the pipe fills up
    setInterval(() => {}, 1000); // and stays alive
  }
});
