package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/admin"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
	"github.com/toolgate/toolgate/scan"
)

// Risk categories from the scanner reach the policy: "@destructive" and
// "@read" rules apply to tools no name pattern matches.
func TestCategoryRules(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	_, url := newGateway(t, `{"version":"1","default":"deny","tools":{
		"@destructive": {"action": "deny", "on_deny": "destructive tools need a human"},
		"@write": {"limits": [{"counter": "writes", "window": "minute", "max": 30, "scope": "grant"}]},
		"echo": {}
	}}`, gateway.Server{Name: "echo", URL: echo.StartHTTP(t)})
	cs := connect(t, ctx, url, nil)
	names := toolNames(t, ctx, cs)
	if !contains(names, "DeleteUser") || !contains(names, "UpdateUser") {
		t.Fatalf("category-matched tools not listed: %v", names)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: map[string]any{"user_id": "u"}})
	if err != nil || !res.IsError || !strings.Contains(textOf(res), "destructive tools need a human") {
		t.Fatalf("DeleteUser: %v %+v", err, res)
	}
	if rule := res.Meta["toolgate/decision"].(map[string]any)["rule"]; rule != "/tools/@destructive" {
		t.Errorf("rule = %v, want /tools/@destructive", rule)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "UpdateUser", Arguments: map[string]any{"user_id": "u"}})
	if err != nil || res.IsError {
		t.Fatalf("UpdateUser (a write): %v %+v", err, res)
	}
	if echo.Calls("DeleteUser") != 0 {
		t.Error("a denied call reached the upstream")
	}
}

func echoPins(t *testing.T, url string, edit func(*scan.Tool)) *scan.Pins {
	t.Helper()
	ctx := testContext(t)
	cs := connect(t, ctx, url, nil)
	var tools []scan.Tool
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(tool)
		var st scan.Tool
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(&st)
		}
		if st.Name != "" {
			tools = append(tools, st)
		}
	}
	p := scan.NewPins()
	p.Add("echo", tools...)
	return p
}

// A rug pull: a tool whose definition changed since it was pinned is
// refused where the policy says pinned, saying what changed; tools that
// were never pinned are refused too; unchanged ones pass. The admin API
// shows the classification and pin status of every tool.
func TestPinnedTools(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	up := echo.StartHTTP(t)
	pins := echoPins(t, up, func(st *scan.Tool) {
		switch st.Name {
		case "add":
			st.Description = "Adds two numbers, as it did when it was pinned."
		case "slow":
			st.Name = "" // never pinned
		}
	})
	eng, err := policy.Load([]byte(`{"version":"1","default":"allow","pinned":true}`), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: up}}, Policy: eng, Pins: pins, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	tokens := admin.NewMemory()
	_, viewer, err := admin.Create(ctx, tokens, admin.Spec{Subject: "viewer@example.com", Role: admin.Viewer})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", gw)
	ts := httptest.NewServer(mux)
	as := httptest.NewServer(gw.AdminHandler(&admin.Verifier{Store: tokens}))
	t.Cleanup(func() { ts.Close(); as.Close(); gw.Close() })
	cs := connect(t, ctx, ts.URL+"/mcp", nil)
	toolNames(t, ctx, cs)
	// The changed tool is listed as it was pinned, never with its new text.
	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range lt.Tools {
		if tl.Name == "add" && tl.Description != "Adds two numbers, as it did when it was pinned." {
			t.Fatalf("the changed tool is listed with its new text: %q", tl.Description)
		}
	}

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "pinned"}})
	if err != nil || res.IsError {
		t.Fatalf("an unchanged pinned tool was refused: %v %+v", err, res)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 2}})
	if err != nil || !res.IsError || !strings.Contains(textOf(res), "changed since it was pinned") || !strings.Contains(textOf(res), "description") {
		t.Fatalf("a changed tool: %v %+v", err, res)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 1}})
	if err != nil || !res.IsError || !strings.Contains(textOf(res), "never pinned") {
		t.Fatalf("an unpinned tool: %v %+v", err, res)
	}
	if echo.Calls("add") != 0 || echo.Calls("slow") != 0 {
		t.Error("a refused call reached the upstream")
	}

	// A page that rebinds its name to 127.0.0.1 sends its own name as
	// Host and no Origin on a same-origin GET: refused.
	rebind, _ := http.NewRequestWithContext(ctx, http.MethodGet, as.URL+"/admin/tools", nil)
	rebind.Host = "attacker.example"
	rebind.Header.Set("Authorization", "Bearer "+viewer)
	if resp, err := http.DefaultClient.Do(rebind); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("GET /admin/tools with a foreign Host: %v %v, want 403", err, resp)
	} else {
		resp.Body.Close()
	}

	get, _ := http.NewRequestWithContext(ctx, http.MethodGet, as.URL+"/admin/tools", nil)
	get.Header.Set("Authorization", "Bearer "+viewer)
	resp, err := http.DefaultClient.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Schema  string `json:"schema"`
		Servers []struct {
			Name  string `json:"name"`
			Tools []struct {
				Report struct {
					Name     string `json:"name"`
					Category string `json:"category"`
					Risk     string `json:"risk"`
				} `json:"report"`
				Pin struct {
					Status string `json:"status"`
				} `json:"pin"`
			} `json:"tools"`
		} `json:"servers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != gateway.AdminSchema || len(doc.Servers) != 1 || doc.Servers[0].Name != "echo" {
		t.Fatalf("admin document: %+v", doc)
	}
	got := map[string]string{}
	for _, tl := range doc.Servers[0].Tools {
		got[tl.Report.Name] = tl.Report.Category + "/" + tl.Pin.Status
	}
	for name, want := range map[string]string{"DeleteUser": "destructive/unchanged", "add": "/changed", "slow": "/new"} {
		if g := got[name]; !strings.HasSuffix(g, want) || g == "" {
			t.Errorf("%s: %q, want ...%s", name, g, want)
		}
	}
}

// Accepting a changed definition (new pins put in force) tells every
// session its tools changed; the new definition is then listed and called.
func TestSetPinsAcceptsAChange(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	up := echo.StartHTTP(t)
	old := echoPins(t, up, func(st *scan.Tool) {
		if st.Name == "add" {
			st.Description = "Adds two numbers, as it did when it was pinned."
		}
	})
	eng, err := policy.Load([]byte(`{"version":"1","default":"allow","pinned":true}`), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: up}}, Policy: eng, Pins: old, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw)
	t.Cleanup(func() { ts.Close(); gw.Close() })
	changed := make(chan struct{}, 4)
	cs := connect(t, ctx, ts.URL, &mcp.ClientOptions{ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
		changed <- struct{}{}
	}})
	description := func() string {
		t.Helper()
		lt, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tl := range lt.Tools {
			if tl.Name == "add" {
				return tl.Description
			}
		}
		t.Fatal("add is not listed")
		return ""
	}
	if d := description(); d != "Adds two numbers, as it did when it was pinned." {
		t.Fatalf("before: %q", d)
	}
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 2}}); err != nil || !res.IsError {
		t.Fatalf("a changed tool was called: %v %+v", err, res)
	}
	gw.SetPins(echoPins(t, up, nil))
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the session was not told its tools changed")
	}
	if d := description(); d != "Adds two numbers." {
		t.Fatalf("after: %q", d)
	}
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 2}}); err != nil || res.IsError {
		t.Fatalf("the accepted tool: %v %+v", err, res)
	}
}
