// Package testpeer provides real MCP peers for toolgate's tests: a go-sdk
// echo server (in process over HTTP, or as a stdio binary), the TypeScript
// SDK client in e2e/node/client.mjs, the MCP Inspector's CLI mode, the
// reference @modelcontextprotocol/server-everything, and the official MCP
// conformance suite (run under Node 22) with the go-sdk's reference
// conformance server. It is imported only by tests.
//
// The Node peers are installed by scripts/deps.sh (run by `make test`). When
// they are missing, the helpers skip the test with a message saying so, or
// fail it when the CI or TOOLGATE_REQUIRE_PEERS environment variable is set.
package testpeer
