// Package e2e holds end-to-end tests with real third-party clients against
// toolgate's directory and gateway: the @clerk/backend SDK (through
// e2e/node/clerk-backend.mjs) against a live directory, and the real
// @clerk/agent-toolkit and @iterable/mcp MCP servers started as stdio
// upstreams of the gateway, their API base URLs pointed at the directory,
// called by a go-sdk client through the gateway.
//
// Every test runs real processes and real HTTP on 127.0.0.1, with SQLite
// under t.TempDir(). The npm peers are installed by scripts/deps.sh (run by
// `make test`); without them the tests skip, or fail under CI (see
// internal/testpeer). The package has no non-test code.
package e2e
