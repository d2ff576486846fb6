package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// Redacted replaces a configured secret in upstream output the gateway
// shows (logs, /readyz, error messages).
const Redacted = "[REDACTED]"

// minSecretLen is the shortest configured value masked in upstream output:
// shorter ones ("1", "on", "dev") would mask every occurrence of a common
// string and make the output unreadable, and are no secret anyway.
const minSecretLen = 4

// secretMask replaces the values a server's configuration holds (its env
// values, its header values and the token after a header's scheme, as in
// "Bearer TOKEN") with Redacted. Upstream stderr may print them: a server
// that logs its own environment, or a failing request with its headers.
type secretMask struct {
	values []string // longest first, so that no longer secret is half-masked
}

func newSecretMask(srv *Server) *secretMask {
	seen := map[string]bool{}
	var vals []string
	add := func(v string) {
		v = strings.TrimSpace(v)
		if len(v) >= minSecretLen && !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	for _, v := range srv.Env {
		add(v)
	}
	for _, v := range srv.Headers {
		add(v)
		if _, tok, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
			add(tok)
		}
	}
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	return &secretMask{values: vals}
}

func (m *secretMask) apply(s string) string {
	if m == nil {
		return s
	}
	for _, v := range m.values {
		s = strings.ReplaceAll(s, v, Redacted)
	}
	return s
}

// Bounds on the stderr kept of a stdio upstream for failure reports.
const (
	stderrTailLines = 10
	stderrLineBytes = 512
)

// stderrTail keeps the last lines a process wrote to its stderr, masked.
type stderrTail struct {
	mask  *secretMask
	mu    sync.Mutex
	lines []string
}

func (t *stderrTail) add(line string) {
	if len(line) > stderrLineBytes {
		line = line[:stderrLineBytes] + "…"
	}
	line = t.mask.apply(line)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == stderrTailLines {
		copy(t.lines, t.lines[1:])
		t.lines = t.lines[:stderrTailLines-1]
	}
	t.lines = append(t.lines, line)
}

func (t *stderrTail) snapshot() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.lines...)
}

// ExitError says why a stdio upstream's process ended: its exit code (or
// the signal that killed it) and the last lines of its stderr, with
// configured secrets masked.
type ExitError struct {
	Server string
	Code   int    // -1 when a signal ended it
	Signal string // the signal, when one did
	Stderr []string
}

func (e *ExitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "upstream %s exited", e.Server)
	switch {
	case e.Signal != "":
		fmt.Fprintf(&b, " (killed by %s)", e.Signal)
	default:
		fmt.Fprintf(&b, " with code %d", e.Code)
	}
	if len(e.Stderr) > 0 {
		b.WriteString("; last stderr: ")
		b.WriteString(strings.Join(e.Stderr, " | "))
	}
	return b.String()
}

// Unwrap makes an exit an errUpstreamClosed.
func (e *ExitError) Unwrap() error { return errUpstreamClosed }

// exitError describes how cmd ended, from the error of its Wait.
func exitError(server string, werr error, tail []string) *ExitError {
	e := &ExitError{Server: server, Stderr: tail}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		e.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			e.Signal = ws.Signal().String()
		}
	}
	return e
}

// unavailableResult is the tool result of a call whose server could not
// serve it (its process stopped, its connection failed): an isError
// result, so that the agent reads which server is down rather than
// losing the tool without a word. The cause is logged, not told, except
// for cause: what the client may know of it (an HTTP status and content
// type, from publicCause), or "".
func unavailableResult(id jsonrpc.ID, server, cause string) []byte {
	text := fmt.Sprintf("[UPSTREAM UNAVAILABLE] server %s is unavailable: it stopped or cannot be reached, and did not answer the call. Its tools may work again later; the gateway's log and /readyz say why.", server)
	if cause != "" {
		text = fmt.Sprintf("[UPSTREAM UNAVAILABLE] server %s is unavailable: %s. Its tools may work again later; the gateway's log and /readyz say why.", server, cause)
	}
	res, _ := json.Marshal(map[string]any{
		"content": []map[string]string{{"type": "text", "text": text}},
		"isError": true,
		"_meta":   map[string]any{"toolgate/unavailable": map[string]string{"server": server}},
	})
	return encodeResponse(id, res, nil)
}
