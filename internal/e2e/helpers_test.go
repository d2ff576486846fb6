package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/directory"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

const (
	// secretKey is the directory's Clerk secret key in these tests.
	secretKey = "sk_test_e2e_directory"
	// iterableKey is the directory's Iterable API key. @iterable/mcp's key
	// store only accepts 32 lowercase hex characters.
	iterableKey = "0123456789abcdef0123456789abcdef"
)

// testTimeout bounds every test's waits.
const testTimeout = 60 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// liveDirectory is a directory over a fresh SQLite database, served on a
// loopback httptest server, with every request it receives recorded.
type liveDirectory struct {
	URL string // base URL, without /v1
	Svc *directory.Service

	mu       sync.Mutex
	requests []recorded
}

// recorded is one request the directory received.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
	Status                 int
}

func (r recorded) String() string {
	s := r.Method + " " + r.Path
	if r.RawQuery != "" {
		s += "?" + r.RawQuery
	}
	return s
}

func startDirectory(t *testing.T) *liveDirectory {
	t.Helper()
	store, err := directory.Open(t.Context(), filepath.Join(t.TempDir(), "directory.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	d := &liveDirectory{Svc: directory.NewService(store, nil)}
	h := directory.NewHandler(d.Svc, &directory.HandlerOptions{
		SecretKeys: []string{secretKey},
		APIKeys:    []string{iterableKey},
		Log:        quietLogger(),
	})
	srv := httptest.NewServer(d.record(h))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	d.URL = srv.URL
	return d
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (d *liveDirectory) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		d.mu.Lock()
		d.requests = append(d.requests, recorded{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: body, Status: sw.status})
		d.mu.Unlock()
	})
}

// Requests returns a copy of the requests received so far.
func (d *liveDirectory) Requests() []recorded {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.requests)
}

// Since returns the requests received after the first n.
func (d *liveDirectory) Since(n int) []recorded {
	return d.Requests()[n:]
}

// Count returns how many requests were received so far.
func (d *liveDirectory) Count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.requests)
}

func (d *liveDirectory) createUser(t *testing.T, p directory.CreateUserParams) *directory.User {
	t.Helper()
	u, err := d.Svc.CreateUser(t.Context(), p)
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

func (d *liveDirectory) user(t *testing.T, id string) *directory.User {
	t.Helper()
	u, err := d.Svc.GetUser(t.Context(), id)
	if err != nil {
		t.Fatalf("GetUser(%s): %v", id, err)
	}
	return u
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// startGateway runs a gateway over servers with the policy document doc on
// a loopback httptest server and returns its MCP URL.
func startGateway(t *testing.T, doc string, servers ...gateway.Server) string {
	t.Helper()
	eng, err := policy.Load([]byte(doc), "policy.json")
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: servers, Policy: eng, Logger: quietLogger(),
		UpstreamTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		gw.Close()
	})
	return ts.URL + "/mcp"
}

// connect opens a go-sdk client session to the gateway at url.
func connect(t *testing.T, ctx context.Context, url string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e-agent", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		t.Fatalf("connect to the gateway: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func toolsByName(t *testing.T, ctx context.Context, cs *mcp.ClientSession) map[string]*mcp.Tool {
	t.Helper()
	out := map[string]*mcp.Tool{}
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatalf("tools/list: %v", err)
		}
		out[tool.Name] = tool
	}
	return out
}

func textOf(res *mcp.CallToolResult) string {
	var sb strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			sb.WriteString(tc.Text)
		}
	}
	return sb.String()
}

// call calls a tool through cs and returns its text; a protocol error fails
// the test.
func call(t *testing.T, ctx context.Context, cs *mcp.ClientSession, name string, args map[string]any) (string, *mcp.CallToolResult) {
	t.Helper()
	if args == nil {
		args = map[string]any{} // a nil map would be sent as "arguments": null
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("tools/call %s: %v", name, err)
	}
	return textOf(res), res
}

// nodeModule returns the path of a file inside node_modules, checking that
// node and the npm peers are installed (testpeer.Node skips or fails the
// test otherwise) and that this package is too.
func nodeModule(t *testing.T, rel string) (node, path string) {
	t.Helper()
	node = testpeer.Node(t)
	path = filepath.Join(testpeer.RepoRoot(t), "node_modules", filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		testpeer.MissingPeer(t, "%s is not installed: %s", rel, testpeer.MissingPeersHint)
	}
	return node, path
}

// runNode runs node with args (from the repository root) and returns its
// stdout lines, each of which must be JSON.
func runNode(t *testing.T, ctx context.Context, node string, args ...string) []json.RawMessage {
	t.Helper()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = testpeer.RepoRoot(t)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.Bytes(), stderr.Bytes())
	}
	var lines []json.RawMessage
	for _, l := range bytes.Split(stdout.Bytes(), []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		if !json.Valid(l) {
			t.Fatalf("node printed a non-JSON line %q\nstderr:\n%s", l, stderr.Bytes())
		}
		lines = append(lines, json.RawMessage(l))
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("node stderr:\n%s", stderr.Bytes())
	}
	return lines
}

func mcpParams(name string, args map[string]any) *mcp.CallToolParams {
	return &mcp.CallToolParams{Name: name, Arguments: args}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
