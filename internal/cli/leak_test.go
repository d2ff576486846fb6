package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// headerLog records every header value an upstream received.
type headerLog struct {
	mu     sync.Mutex
	values []string
}

func (l *headerLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		for name, vs := range r.Header {
			for _, v := range vs {
				l.values = append(l.values, name+": "+v)
			}
		}
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (l *headerLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.values)
}

// teeTransport adds a bearer token to every request and copies every
// response body the client reads into bodies.
type teeTransport struct {
	token  string
	bodies *testpeer.SyncBuffer
}

func (tt teeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if tt.token != "" {
		r.Header.Set("Authorization", "Bearer "+tt.token)
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(tt.bodies, "\n--- %s %s: %d\n", r.Method, r.URL.Path, resp.StatusCode)
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(resp.Body, tt.bodies), resp.Body}
	return resp, nil
}

func randomSecret(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// Upstream credentials (an HTTP server's header, a stdio server's
// environment), taken from toolgate's environment through ${NAME}, reach
// their upstream and nothing else: not toolgate's output or debug log, not
// its store, not any answer a client or an admin gets, whatever happens —
// allowed, denied and invalid calls, an upstream that fails, one that cannot
// be reached, a policy reload that fails. The client's own grant token
// never reaches an upstream and is never logged either.
//
// toolgate runs as a process of its own, so that everything it writes, to
// any file descriptor, is seen.
func TestServeNeverLeaksCredentials(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	bin := testpeer.BuildToolgate(t)
	echoBin := testpeer.BuildEchoServer(t)
	secretHTTP := randomSecret(t, "uphttp")
	secretStdio := randomSecret(t, "upstdio")

	var apiSeen, brokenSeen headerLog
	api := httptest.NewServer(apiSeen.wrap(testpeer.GoEchoServer().HTTPHandler()))
	broken := httptest.NewServer(brokenSeen.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream exploded", http.StatusInternalServerError)
	})))
	for _, ts := range []*httptest.Server{api, broken} {
		t.Cleanup(func() { ts.CloseClientConnections(); ts.Close() })
	}
	down := "http://" + freeAddr(t) + "/mcp" // nothing listens there

	dir := t.TempDir()
	upDir := t.TempDir() // what the stdio upstream writes, not toolgate
	envFile := filepath.Join(upDir, "env")
	addr, adminAddr := freeAddr(t), freeAddr(t)
	policy := `{"version":"1","default":"deny","tools":{
  "api_echo":{}, "api_add":{}, "api_sample":{}, "local_echo":{}, "local_add":{}, "local_sample":{}, "broken_echo":{}, "down_echo":{},
  "api_DeleteUser":{"action":"deny","on_deny":"not through the gateway"}}}`
	files := map[string]string{
		"support.json": policy,
		"toolgate.yaml": fmt.Sprintf(`listen: %s
admin_listen: %s
auth: grants
store: sqlite://data/toolgate.db
upstream_timeout: 5s
servers:
  api:
    url: %s/mcp
    headers: {Authorization: "Bearer ${UPSTREAM_SECRET}"}
  local:
    command: [/bin/sh, -c, 'env > "$0" && exec "$1"', %q, %q]
    env: {API_KEY: "${UPSTREAM_SECRET2}"}
  broken:
    url: %s/mcp
    headers: {Authorization: "Bearer ${UPSTREAM_SECRET}", X-Api-Key: "${UPSTREAM_SECRET2}"}
  down:
    url: %s
    headers: {Authorization: "Bearer ${UPSTREAM_SECRET}"}
policies:
  support: support.json
`, addr, adminAddr, api.URL, envFile, echoBin, broken.URL, down),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "toolgate.yaml")
	env := append(os.Environ(), "UPSTREAM_SECRET="+secretHTTP, "UPSTREAM_SECRET2="+secretStdio)

	// Everything toolgate writes, but for the files of its store.
	var written bytes.Buffer
	tg := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		fmt.Fprintf(&written, "\n--- toolgate %s\n%s%s", strings.Join(args, " "), out.Bytes(), errOut.Bytes())
		if err != nil {
			t.Fatalf("toolgate %s: %v\n%s%s", strings.Join(args, " "), err, out.Bytes(), errOut.Bytes())
		}
		return out.String()
	}
	tg("check", "--config", cfg)
	created := issuedRE.FindStringSubmatch(tg("grant", "create", "--config", cfg, "--subject", "agent:leak", "--policy", "support"))
	if created == nil {
		t.Fatalf("no grant token in:\n%s", written.String())
	}
	token := created[2]
	written.Reset() // grant create prints the token, as it must; nothing else may
	adminOut := tg("admin", "token", "create", "--config", cfg, "--subject", "ops", "--role", "viewer")
	adminTok := strings.Fields(adminOut[strings.Index(adminOut, "tga_"):])[0]
	written.Reset()

	logPath := filepath.Join(t.TempDir(), "toolgate.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	var serveOut testpeer.SyncBuffer
	serve := exec.Command(bin, "serve", "--config", cfg, "--log-level", "debug", "--log-format", "json")
	serve.Env = env
	serve.Stdout, serve.Stderr = &serveOut, logFile
	proc := startProcess(t, serve)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			if err := proc.stop(); err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	waitHealthy(t, addr, proc, func() string { return readFile(t, logPath) })

	var bodies testpeer.SyncBuffer
	connect := func(path, tok string) (*mcp.ClientSession, error) {
		client := mcp.NewClient(&mcp.Implementation{Name: "leak-test", Version: "1"}, nil)
		return client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + path,
			HTTPClient: &http.Client{Transport: teeTransport{token: tok, bodies: &bodies}}}, nil)
	}

	// Refused: no token, a wrong token.
	for _, tok := range []string{"", wrongToken} {
		if cs, err := connect("/mcp", tok); err == nil {
			cs.Close()
			t.Errorf("connected with token %q", tok)
		}
	}
	// The servers that fail, alone: the session cannot start.
	for _, path := range []string{"/mcp/broken", "/mcp/down"} {
		if cs, err := connect(path, token); err == nil {
			cs.Close()
			t.Errorf("a session at %s, whose upstream fails", path)
		}
	}

	cs, err := connect("/mcp", token)
	if err != nil {
		t.Fatalf("connect with the grant's token: %v\nlog:\n%s", err, readFile(t, logPath))
	}
	defer cs.Close()
	var names []string
	for tl, err := range cs.Tools(ctx, nil) { // every page
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tl.Name)
	}
	for _, want := range []string{"api_echo", "local_echo"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools/list has no %s: %q", want, names)
		}
	}
	calls := []struct {
		name    string
		args    map[string]any
		isError bool
	}{
		{"api_echo", map[string]any{"message": "allowed over http"}, false},
		{"local_echo", map[string]any{"message": "allowed over stdio"}, false},
		{"api_DeleteUser", map[string]any{"user_id": "u1"}, true},              // denied by the policy
		{"api_UpdateUser", map[string]any{"user_id": "u1"}, true},              // denied by default
		{"api_add", map[string]any{"a": "one", "b": 2}, true},                  // invalid arguments
		{"local_add", map[string]any{"a": map[string]any{}, "b": 2}, true},     // invalid arguments
		{"api_sample", map[string]any{"prompt": "fails upstream"}, true},       // the upstream's tool fails
		{"local_sample", map[string]any{"prompt": "fails upstream"}, true},     // (the client cannot sample)
		{"broken_echo", map[string]any{"message": "to the failing one"}, true}, // its upstream fails
		{"down_echo", map[string]any{"message": "to the unreachable"}, true},   // no upstream there
		{"nosuch_tool", map[string]any{"message": "to nobody"}, true},          // unknown
	}
	for _, c := range calls {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.name, Arguments: c.args})
		if got := err != nil || res.IsError; got != c.isError {
			t.Errorf("%s: error %v, want %v (%v %+v)", c.name, got, c.isError, err, res)
		}
	}

	// A policy reload that fails: the file is broken, then SIGHUP.
	if err := os.WriteFile(filepath.Join(dir, "support.json"), []byte(`{"version":"1","default":"sometimes"`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := serve.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(readFile(t, logPath), "keeping the policy in force") {
		if time.Now().After(deadline) {
			t.Fatalf("no failed reload in the log within 15s:\n%s", readFile(t, logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "api_echo", Arguments: map[string]any{"message": "after the reload"}}); err != nil || res.IsError {
		t.Errorf("api_echo after the failed reload: %v %+v", err, res)
	}

	// The admin API's view of the servers and their tools.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+adminAddr+"/admin/tools", nil)
	req.Header.Set("Authorization", "Bearer "+adminTok)
	resp, err := (&http.Client{Transport: teeTransport{bodies: &bodies}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /admin/tools: %d", resp.StatusCode)
	}

	// What was seen while serve runs (the store's -wal, -shm), then after.
	storeFiles := func() string { return filesUnder(t, filepath.Join(dir, "data")) }
	running := storeFiles()
	cs.Close()
	stop()

	// The test would prove nothing if the credentials never went anywhere.
	if !slices.Contains(apiSeen.all(), "Authorization: Bearer "+secretHTTP) {
		t.Errorf("the HTTP upstream never received its credential: %q", apiSeen.all())
	}
	if !slices.Contains(brokenSeen.all(), "X-Api-Key: "+secretStdio) {
		t.Errorf("the failing upstream never received its headers: %q", brokenSeen.all())
	}
	if !strings.Contains(readFile(t, envFile), "API_KEY="+secretStdio+"\n") {
		t.Errorf("the stdio upstream's environment has no API_KEY")
	}
	if !strings.Contains(readFile(t, logPath), `"level":"DEBUG"`) {
		t.Errorf("the log has no debug records: the test would see less than it should")
	}

	outputs := []struct{ name, text string }{
		{"the output of check, grant create and admin token create", written.String()},
		{"serve's standard output", serveOut.String()},
		{"serve's log (standard error)", readFile(t, logPath)},
		{"the store while serve ran", running},
		{"the store after serve stopped", storeFiles()},
		{"the responses clients received", bodies.String()},
	}
	for _, secret := range []struct{ name, value string }{
		{"UPSTREAM_SECRET", secretHTTP},
		{"UPSTREAM_SECRET2", secretStdio},
		{"the grant's token", token},
	} {
		// Halves too: a "redacted" value that keeps a prefix or a suffix
		// still gives part of it away.
		half := len(secret.value) / 2
		for _, o := range outputs {
			for _, part := range []string{secret.value, secret.value[:half], secret.value[half:]} {
				if i := strings.Index(o.text, part); i >= 0 {
					t.Errorf("%s holds %s (%q):\n...%s...", o.name, secret.name, part, o.text[max(0, i-200):min(len(o.text), i+len(part)+200)])
					break
				}
			}
		}
	}
	if strings.Contains(readFile(t, envFile), "tg_") {
		t.Errorf("the stdio upstream's environment holds a grant token")
	}
	for _, seen := range [][]string{apiSeen.all(), brokenSeen.all()} {
		for _, h := range seen {
			if strings.Contains(h, token) || strings.Contains(h, "tg_") {
				t.Errorf("an upstream received the client's token: %q", h)
			}
		}
	}
}

// process is a started command whose end several parties may wait for.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the command has exited; err is then set
	err  error
}

func startProcess(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p
}

// stop sends SIGTERM and waits for the exit, killing the process when it
// has not exited within 20s. It returns the exit's error, or one saying the
// process had to be killed.
func (p *process) stop() error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("did not stop within 20s of SIGTERM (killed)")
	}
}

// waitHealthy waits until the gateway at addr answers /healthz, or fails the
// test, with what output returns, when the process exits first or has not
// answered within 30s.
func waitHealthy(t *testing.T, addr string, p *process, output func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("serve exited before it served: %v\n%s", p.err, output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer /healthz within 30s\n%s", output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// filesUnder returns the contents of every file under root (the store,
// its -wal and -shm, the audit journal's files), each after its name.
func filesUnder(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a journal file deleted once its events were committed
		}
		fmt.Fprintf(&b, "\n--- %s\n%s", path, data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
