package gateway_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// echoTools are the tools of testpeer's echo server.
var echoTools = []string{"DeleteUser", "UpdateUser", "add", "echo", "sample", "slow"}

// threeUpstreams returns three servers: an HTTP upstream that pages its
// own list two tools at a time (p_t1..p_t7), the stdio echo server (s_)
// and the HTTP echo server (h_), and every tool name the gateway should
// list for them.
func threeUpstreams(t *testing.T) ([]gateway.Server, []string) {
	t.Helper()
	paged := []string{"t1", "t2", "t3", "t4", "t5", "t6", "t7"}
	_, pagedURL := pagedServer(t, paged...)
	servers := []gateway.Server{
		{Name: "p", Prefix: "p_", URL: pagedURL},
		{Name: "s", Prefix: "s_", Command: []string{testpeer.BuildEchoServer(t)}},
		{Name: "h", Prefix: "h_", URL: testpeer.GoEchoServer().StartHTTP(t)},
	}
	var want []string
	for _, n := range paged {
		want = append(want, "p_"+n)
	}
	for _, pre := range []string{"s_", "h_"} {
		for _, n := range echoTools {
			want = append(want, pre+n)
		}
	}
	sort.Strings(want)
	return servers, want
}

func newGatewayWith(t *testing.T, doc string, opts gateway.Options) string {
	t.Helper()
	opts.Policy = mustLoad(t, doc)
	opts.Logger = quietLogger()
	gw, err := gateway.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)
	return url
}

func namesOf(tools []*mcp.Tool) []string {
	var names []string
	for _, tl := range tools {
		names = append(names, tl.Name)
	}
	sort.Strings(names)
	return names
}

// One tools/list answers every tool of three upstreams, one of which pages
// its own list, in a single page; prompts and resources are merged alike.
func TestMergedListOnePage(t *testing.T) {
	ctx := testContext(t)
	servers, want := threeUpstreams(t)
	url := newGatewayWith(t, allowAll, gateway.Options{Servers: servers})
	cs := connect(t, ctx, url, nil)
	page, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := namesOf(page.Tools); !slices.Equal(got, want) || page.NextCursor != "" {
		t.Fatalf("one page: %v (nextCursor %q), want %v", got, page.NextCursor, want)
	}
	prompts, err := cs.ListPrompts(ctx, nil)
	if err != nil || len(prompts.Prompts) != 2 || prompts.NextCursor != "" {
		t.Fatalf("prompts/list: %v %+v", err, prompts)
	}
	res, err := cs.ListResources(ctx, nil)
	if err != nil || len(res.Resources) != 2 || res.NextCursor != "" {
		t.Fatalf("resources/list: %v %+v", err, res)
	}
	// A tool of the paged upstream's last page is callable.
	call, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "p_t7"})
	if err != nil || call.IsError || textOf(call) != "t7" {
		t.Fatalf("p_t7: %v %+v", err, call)
	}
}

// Above list_page_size the merged list comes in pages of that size, and
// a client that follows the cursors sees every tool once.
func TestMergedListPages(t *testing.T) {
	ctx := testContext(t)
	servers, want := threeUpstreams(t)
	for _, size := range []int{1, 4, len(want) - 1, len(want)} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			url := newGatewayWith(t, allowAll, gateway.Options{Servers: servers, ListPageSize: size})
			cs := connect(t, ctx, url, nil)
			var got []string
			cursor, pages := "", 0
			for ; pages <= len(want); pages++ {
				page, err := cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
				if err != nil {
					t.Fatalf("page %d: %v", pages, err)
				}
				if len(page.Tools) > size {
					t.Fatalf("page %d has %d tools, more than %d", pages, len(page.Tools), size)
				}
				got = append(got, namesOf(page.Tools)...)
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Fatalf("all pages: %v, want %v", got, want)
			}
			if wantPages := (len(want) + size - 1) / size; pages+1 != wantPages {
				t.Errorf("%d pages, want %d", pages+1, wantPages)
			}
		})
	}
}

// A cursor toolgate did not issue, one into an older listing, one of
// another session or pointing past the end is a JSON-RPC invalid-params
// error, never a guess.
func TestListCursorTampering(t *testing.T) {
	ctx := testContext(t)
	servers, _ := threeUpstreams(t)
	url := newGatewayWith(t, allowAll, gateway.Options{Servers: servers, ListPageSize: 3})
	cs := connect(t, ctx, url, nil)
	other := connect(t, ctx, url, nil)
	first, err := cs.ListTools(ctx, nil)
	if err != nil || first.NextCursor == "" {
		t.Fatalf("first page: %v %+v", err, first)
	}
	theirs, err := other.ListTools(ctx, nil)
	if err != nil || theirs.NextCursor == "" {
		t.Fatalf("other session's first page: %v %+v", err, theirs)
	}
	// The cursor is opaque, but a forger can read base64 and JSON.
	raw, err := base64.RawURLEncoding.DecodeString(first.NextCursor)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	forge := func(edit func(map[string]any)) string {
		m := map[string]any{}
		for k, v := range c {
			m[k] = v
		}
		edit(m)
		b, _ := json.Marshal(m)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	stale := first.NextCursor
	if _, err := cs.ListTools(ctx, nil); err != nil { // a new listing replaces the old one
		t.Fatal(err)
	}
	fresh, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, cursor string }{
		{"not base64", "forged!"},
		{"not JSON", base64.RawURLEncoding.EncodeToString([]byte("nope"))},
		{"another snapshot", forge(func(m map[string]any) { m["s"] = strings.Repeat("0", 32) })},
		{"past the end", forge(func(m map[string]any) { m["o"] = 1000 })},
		{"offset zero", forge(func(m map[string]any) { m["o"] = 0 })},
		{"negative offset", forge(func(m map[string]any) { m["o"] = -3 })},
		{"stale", stale},
		{"another session's", theirs.NextCursor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: tc.cursor})
			var we *jsonrpc.Error
			if !errors.As(err, &we) || we.Code != jsonrpc.CodeInvalidParams || !strings.Contains(we.Message, "cursor") {
				t.Fatalf("want an invalid-params error about the cursor, got %v", err)
			}
		})
	}
	// The current listing's cursor still works.
	if _, err := cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: fresh.NextCursor}); err != nil {
		t.Fatalf("the fresh cursor: %v", err)
	}
}

// endlessServer is an HTTP upstream whose tools/list never ends: each page
// holds perPage tools and a next cursor, fresh or the same each time. It
// counts the pages asked for.
func endlessServer(t *testing.T, perPage int, sameCursor bool) (string, *atomic.Int64) {
	t.Helper()
	var pages atomic.Int64
	srv := mcp.NewServer(&mcp.Implementation{Name: "endless", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "seed"}, func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{}, nil, nil
	})
	srv.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method != "tools/list" {
				return next(ctx, method, req)
			}
			n := pages.Add(1)
			res := &mcp.ListToolsResult{NextCursor: fmt.Sprint("page-", n)}
			if sameCursor {
				res.NextCursor = "again"
			}
			for i := range perPage {
				res.Tools = append(res.Tools, &mcp.Tool{Name: fmt.Sprintf("t%d_%d", n, i),
					InputSchema: json.RawMessage(`{"type":"object"}`)})
			}
			return res, nil
		}
	})
	ts := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	t.Cleanup(func() { ts.CloseClientConnections(); ts.Close() })
	return ts.URL, &pages
}

// An upstream whose list never ends is read up to the documented bounds
// (100 pages, 10,000 items), then listed as far as it was read, beside the
// other upstreams' tools.
func TestHostileUpstreamListIsBounded(t *testing.T) {
	ctx := testContext(t)
	for _, tc := range []struct {
		name       string
		perPage    int
		same       bool
		pages      int64
		endlessLen int
	}{
		{"a fresh cursor every page", 1, false, 100, 100},
		{"the same cursor again", 1, true, 2, 2},
		{"large pages", 300, false, 34, 10000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			endless, pages := endlessServer(t, tc.perPage, tc.same)
			url := newGatewayWith(t, allowAll, gateway.Options{Servers: []gateway.Server{
				{Name: "e", Prefix: "e_", URL: endless},
				{Name: "h", Prefix: "h_", URL: testpeer.GoEchoServer().StartHTTP(t)},
			}, ListPageSize: 100000})
			cs := connect(t, ctx, url, nil)
			page, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, tl := range page.Tools {
				if strings.HasPrefix(tl.Name, "e_") {
					n++
				}
			}
			if n != tc.endlessLen || len(page.Tools) != n+len(echoTools) {
				t.Errorf("listed %d of the endless server's tools (want %d) and %d in all", n, tc.endlessLen, len(page.Tools))
			}
			if got := pages.Load(); got != tc.pages {
				t.Errorf("the gateway asked for %d pages, want %d", got, tc.pages)
			}
		})
	}
}

// The policy's hide applies to the merged list, and a session opened at
// one server's own endpoint lists that server's tools only.
func TestMergedListPolicyAndServers(t *testing.T) {
	ctx := testContext(t)
	servers, want := threeUpstreams(t)
	doc := `{"version":"1","default":"allow","hide":["p_t3","s_*"]}`
	opts := gateway.Options{Servers: servers, Policy: mustLoad(t, doc), Logger: quietLogger(), ListPageSize: 2}
	gw, err := gateway.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)
	var visible []string
	for _, n := range want {
		if n != "p_t3" && !strings.HasPrefix(n, "s_") {
			visible = append(visible, n)
		}
	}
	if got := toolNames(t, ctx, connect(t, ctx, url, nil)); !slices.Equal(got, visible) {
		t.Errorf("merged list with hide: %v, want %v", got, visible)
	}
	h, err := gw.ServerHandler("h")
	if err != nil {
		t.Fatal(err)
	}
	var onlyH []string
	for _, n := range visible {
		if strings.HasPrefix(n, "h_") {
			onlyH = append(onlyH, n)
		}
	}
	if got := toolNames(t, ctx, connect(t, ctx, serveHandler(t, h), nil)); !slices.Equal(got, onlyH) {
		t.Errorf("server h's endpoint: %v, want %v", got, onlyH)
	}
}

// The TypeScript SDK's listTools() and the MCP Inspector's CLI, which
// read only the first page, see every tool of three upstreams.
func TestMergedListRealClients(t *testing.T) {
	ctx := testContext(t)
	servers, want := threeUpstreams(t)
	url := newGatewayWith(t, allowAll, gateway.Options{Servers: servers})
	decode := func(t *testing.T, raw []byte) []string {
		t.Helper()
		var list struct {
			Tools      []struct{ Name string } `json:"tools"`
			NextCursor string                  `json:"nextCursor"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
		if list.NextCursor != "" {
			t.Errorf("nextCursor %q on a list under the page size", list.NextCursor)
		}
		var names []string
		for _, tl := range list.Tools {
			names = append(names, tl.Name)
		}
		sort.Strings(names)
		return names
	}
	t.Run("typescript sdk", func(t *testing.T) {
		lines := testpeer.NodeClient(t, ctx, url, []map[string]any{{"op": "listTools"}})
		step := testpeer.DecodeStep(t, lines[1])
		if step.Error != nil {
			t.Fatalf("listTools: %+v", step.Error)
		}
		if got := decode(t, step.Result); !slices.Equal(got, want) {
			t.Errorf("listTools(): %d tools %v, want %d %v", len(got), got, len(want), want)
		}
	})
	t.Run("inspector cli", func(t *testing.T) {
		out, err := testpeer.InspectorCLI(t, ctx, url, "--transport", "http", "--method", "tools/list")
		if err != nil {
			t.Fatal(err)
		}
		if got := decode(t, []byte(out)); !slices.Equal(got, want) {
			t.Errorf("inspector tools/list: %d tools %v, want %d %v", len(got), got, len(want), want)
		}
	})
}
