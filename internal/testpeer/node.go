package testpeer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// NodeClient runs e2e/node/client.mjs (the TypeScript SDK client) against
// the streamable-HTTP endpoint url and returns its output lines: lines[0]
// describes the connection ({"protocolVersion","serverInfo","capabilities"})
// and lines[i+1] is the outcome of steps[i] (see [Step]).
//
// steps is anything that marshals to the JSON list of steps, e.g.
// []map[string]any{{"op": "callTool", "name": "echo", "arguments": ...}};
// a string, []byte or json.RawMessage is passed as is. The test fails if
// the client cannot connect; use [NodeClientArgs] to see that as an error.
func NodeClient(t testing.TB, ctx context.Context, url string, steps any) []json.RawMessage {
	t.Helper()
	lines, err := NodeClientArgs(t, ctx, []string{"--url", url}, steps)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// NodeClientArgs runs client.mjs with the given arguments (e.g. "--header",
// "Authorization: Bearer x", "--url", url; or "--stdio", cmd, args...) and
// the steps on its stdin. It returns the output lines, and an error (holding
// the client's stderr) when the client exits non-zero, i.e. when the
// connection failed; lines then holds the {"error":...} line.
func NodeClientArgs(t testing.TB, ctx context.Context, args []string, steps any) ([]json.RawMessage, error) {
	t.Helper()
	return nodeClient(t, ctx, args, nil, steps)
}

// TokenEnv is the environment variable client.mjs sends as
// "Authorization: Bearer <value>" when it is set and not empty.
const TokenEnv = "TOOLGATE_E2E_TOKEN"

// NodeClientToken runs client.mjs against the streamable-HTTP endpoint url
// with token as its bearer token, passed in [TokenEnv] rather than on the
// command line, where any local user could read it from the process list.
// An empty token sends no Authorization header. Outputs and errors are
// those of [NodeClientArgs].
func NodeClientToken(t testing.TB, ctx context.Context, url, token string, steps any) ([]json.RawMessage, error) {
	t.Helper()
	return nodeClient(t, ctx, []string{"--url", url}, []string{TokenEnv + "=" + token}, steps)
}

// nodeClient runs client.mjs with args, the steps on its stdin, and env
// added to the test's environment (TokenEnv always reset, so that a value
// set around the test does not leak in).
func nodeClient(t testing.TB, ctx context.Context, args, env []string, steps any) ([]json.RawMessage, error) {
	t.Helper()
	node := Node(t)
	var script []byte
	switch s := steps.(type) {
	case string:
		script = []byte(s)
	case []byte:
		script = s
	case json.RawMessage:
		script = s
	default:
		var err error
		if script, err = json.Marshal(steps); err != nil {
			t.Fatalf("testpeer: marshal steps: %v", err)
		}
	}
	client := filepath.Join(RepoRoot(t), "e2e", "node", "client.mjs")
	cmd := exec.CommandContext(ctx, node, append([]string{client}, args...)...)
	cmd.Env = append(append(os.Environ(), TokenEnv+"="), env...)
	cmd.Stdin = bytes.NewReader(script)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	var lines []json.RawMessage
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		line := json.RawMessage(bytes.Clone(sc.Bytes()))
		if !json.Valid(line) {
			return lines, fmt.Errorf("testpeer: client.mjs printed a non-JSON line %q (stderr: %s)", line, stderr.Bytes())
		}
		lines = append(lines, line)
	}
	if runErr != nil {
		return lines, fmt.Errorf("testpeer: client.mjs %v: %v\nstdout:\n%s\nstderr:\n%s", args, runErr, stdout.Bytes(), stderr.Bytes())
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("testpeer: client.mjs printed nothing (stderr: %s)", stderr.Bytes())
	}
	return lines, nil
}

// Step is one decoded step line of client.mjs.
type Step struct {
	Op       string            `json:"op"`
	Result   json.RawMessage   `json:"result,omitempty"`
	Error    *StepError        `json:"error,omitempty"`
	Progress []json.RawMessage `json:"progress,omitempty"`
}

// StepError is a step's thrown error; Code is the JSON-RPC error code (or an
// HTTP status for transport errors) when there is one.
type StepError struct {
	Code    int             `json:"code,omitempty"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
	Name    string          `json:"name,omitempty"`
}

// DecodeStep decodes a step line returned by [NodeClient].
func DecodeStep(t testing.TB, line json.RawMessage) Step {
	t.Helper()
	var s Step
	if err := json.Unmarshal(line, &s); err != nil {
		t.Fatalf("testpeer: decode step %s: %v", line, err)
	}
	return s
}
