package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/tools/txtar"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/limit/memory"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/transcripts")

// TestTranscripts runs each testdata/transcripts/*.txtar: a go-sdk client
// talks to the gateway over streamable HTTP, the gateway to the go-sdk echo
// server, and what the client sees (plus what reached the upstream) must
// match the archive's "want" file byte for byte.
//
// An archive holds policy.json (the policy in force at start), any other
// files the script names, and "script", one command a line:
//
//	list                     tools/list, the names the client sees
//	call TOOL JSON [xN]      tools/call N times (identical results collapse)
//	upstream TOOL            how many calls for TOOL reached the upstream
//	policy FILE              write FILE over the policy file and reload it
//	advance DURATION         move the limiter's clock forward
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/transcripts/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txtar"), func(t *testing.T) {
			runTranscript(t, f)
		})
	}
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func runTranscript(t *testing.T, path string) {
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range ar.Files {
		files[f.Name] = f.Data
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	echo := testpeer.GoEchoServer()
	upstreamURL := echo.StartHTTP(t)

	dir := t.TempDir()
	policyPath := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(policyPath, files["policy.json"], 0o644); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{{Name: "echo", URL: upstreamURL}},
		Limiter: memory.New(&memory.Options{Now: clock.Now}),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	pf := gateway.NewPolicyFile(gw, policyPath, nil)
	if err := pf.Load(); err != nil {
		t.Fatalf("initial policy: %v", err)
	}
	front := httptest.NewServer(gw)
	defer front.Close()

	client := mcp.NewClient(&mcp.Implementation{Name: "transcript", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: front.URL}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cs.Close()

	var out bytes.Buffer
	for _, line := range strings.Split(string(files["script"]), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fmt.Fprintf(&out, "> %s\n", line)
		cmd, rest, _ := strings.Cut(line, " ")
		switch cmd {
		case "list":
			res, err := cs.ListTools(ctx, nil)
			if err != nil {
				fmt.Fprintf(&out, "error: %v\n", err)
				continue
			}
			var names []string
			for _, tl := range res.Tools {
				names = append(names, tl.Name)
			}
			sort.Strings(names)
			fmt.Fprintf(&out, "tools: %s\n", strings.Join(names, " "))
		case "call":
			name, args, times := parseCall(t, rest)
			var prev string
			count := 0
			flush := func() {
				if count > 1 {
					fmt.Fprintf(&out, "(%d times)\n", count)
				}
				out.WriteString(prev)
			}
			for i := 0; i < times; i++ {
				got := describeCall(ctx, cs, name, args)
				if got == prev {
					count++
					continue
				}
				if count > 0 {
					flush()
				}
				prev, count = got, 1
			}
			flush()
		case "upstream":
			fmt.Fprintf(&out, "upstream calls: %d\n", echo.Calls(rest))
		case "policy":
			data, ok := files[rest]
			if !ok {
				t.Fatalf("script names missing file %q", rest)
			}
			if err := os.WriteFile(policyPath, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := pf.Load(); err != nil {
				fmt.Fprintf(&out, "reload refused:\n%s\n", strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
			} else {
				out.WriteString("reload ok\n")
			}
		case "advance":
			d, err := time.ParseDuration(rest)
			if err != nil {
				t.Fatal(err)
			}
			clock.advance(d)
		default:
			t.Fatalf("unknown script command %q", cmd)
		}
	}
	if *update {
		for i, f := range ar.Files {
			if f.Name == "want" {
				ar.Files[i].Data = out.Bytes()
			}
		}
		if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want := string(files["want"]); out.String() != want {
		t.Errorf("transcript differs (run go test ./gateway -run TestTranscripts -update to accept)\n--- got\n%s\n--- want\n%s", out.String(), want)
	}
}

func parseCall(t *testing.T, rest string) (string, map[string]any, int) {
	name, rest, _ := strings.Cut(rest, " ")
	times := 1
	if i := strings.LastIndex(rest, " x"); i >= 0 {
		if n, err := strconv.Atoi(rest[i+2:]); err == nil {
			times, rest = n, rest[:i]
		}
	}
	var args map[string]any
	if strings.TrimSpace(rest) != "" {
		if err := json.Unmarshal([]byte(rest), &args); err != nil {
			t.Fatalf("call %s: bad JSON arguments: %v", name, err)
		}
	}
	return name, args, times
}

// describeCall renders what the client sees of one call.
func describeCall(ctx context.Context, cs *mcp.ClientSession, name string, args map[string]any) string {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return fmt.Sprintf("rpc error: %v\n", err)
	}
	var b strings.Builder
	status := "ok"
	if res.IsError {
		status = "isError"
	}
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			fmt.Fprintf(&b, "%s: %s\n", status, tc.Text)
		}
	}
	if d, ok := res.Meta["toolgate/decision"]; ok {
		j, _ := json.Marshal(d)
		fmt.Fprintf(&b, "decision: %s\n", j)
	}
	return b.String()
}
