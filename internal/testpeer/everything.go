package testpeer

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const everythingPkg = "@modelcontextprotocol/server-everything"

// everythingBin returns the absolute path of the package's bin script, read
// from its package.json.
func everythingBin(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "node_modules", filepath.FromSlash(everythingPkg))
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		missingPeers(t, everythingPkg+" is not installed")
	}
	var pkg struct {
		Bin json.RawMessage `json:"bin"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		t.Fatalf("testpeer: %s/package.json: %v", everythingPkg, err)
	}
	var bin string
	if json.Unmarshal(pkg.Bin, &bin) != nil {
		var bins map[string]string
		if err := json.Unmarshal(pkg.Bin, &bins); err != nil || len(bins) != 1 {
			t.Fatalf("testpeer: %s/package.json: want one bin entry, have %s", everythingPkg, pkg.Bin)
		}
		for _, b := range bins {
			bin = b
		}
	}
	return filepath.Join(dir, filepath.FromSlash(bin))
}

// EverythingCommand returns the argv that runs the reference
// @modelcontextprotocol/server-everything on stdio with node (no npx), e.g.
// for exec.Command(argv[0], argv[1:]...) or a gateway's stdio upstream.
func EverythingCommand(t testing.TB) []string {
	t.Helper()
	node := Node(t)
	return []string{node, everythingBin(t), "stdio"}
}

// EverythingHTTP starts server-everything in its streamable-HTTP mode on a
// free loopback port and returns its endpoint, http://127.0.0.1:PORT/mcp,
// once the port accepts connections. The server is killed when ctx ends or
// on t.Cleanup; its output is logged only if the test fails.
func EverythingHTTP(t testing.TB, ctx context.Context) string {
	t.Helper()
	node := Node(t)
	bin := everythingBin(t)
	preload := (&url.URL{Scheme: "file", Path: filepath.Join(RepoRoot(t), "e2e", "node", "loopback.mjs")}).String()
	return startOnFreePort(t, ctx, "server-everything", func(port int) *exec.Cmd {
		cmd := exec.CommandContext(ctx, node, "--import", preload, bin, "streamableHttp")
		cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
		return cmd
	})
}

// startOnFreePort starts the server cmd makes for a free loopback port
// and returns its endpoint, http://127.0.0.1:PORT/mcp, once the port
// accepts connections; it tries another port when another process took
// the one probed (the output says the address is in use). The server is
// killed when ctx ends or on t.Cleanup; its output is logged only if the
// test fails.
func startOnFreePort(t testing.TB, ctx context.Context, name string, cmd func(port int) *exec.Cmd) string {
	t.Helper()
	var lastErr error
	for range 3 { // another process may take the port between probe and listen
		port, err := freePort()
		if err != nil {
			t.Fatalf("testpeer: %v", err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		c := cmd(port)
		out := &SyncBuffer{}
		c.Stdout, c.Stderr = out, out
		c.WaitDelay = 2 * time.Second
		if err := c.Start(); err != nil {
			t.Fatalf("testpeer: start %s: %v", name, err)
		}
		exited := make(chan struct{})
		go func() { _ = c.Wait(); close(exited) }()
		stop := func() {
			_ = c.Process.Kill()
			<-exited
		}
		if lastErr = waitListening(ctx, addr, exited, 20*time.Second); lastErr == nil {
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("%s output:\n%s", name, out.String())
				}
			})
			return "http://" + addr + "/mcp"
		}
		stop()
		lastErr = fmt.Errorf("%w\n%s", lastErr, out.String())
		if o := out.String(); !strings.Contains(o, "EADDRINUSE") && !strings.Contains(o, "already in use") {
			break
		}
	}
	t.Fatalf("testpeer: %s did not start: %v", name, lastErr)
	return ""
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitListening polls addr until it accepts a TCP connection, the process
// exits, ctx ends, or the timeout passes.
func waitListening(ctx context.Context, addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before listening on %s", addr)
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("not listening on %s after %v", addr, timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
