//lint:file-ignore SA1019 sampling and logging, deprecated as of protocol 2026-07-28, are carried by the gateway and tested on purpose

package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/grant"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// newShareGateway serves a gateway with opts (policy allowAll, quiet log
// unless set) and returns it and its /mcp URL.
func newShareGateway(t *testing.T, opts gateway.Options) (*gateway.Gateway, string) {
	t.Helper()
	if opts.Policy == nil && opts.Authenticator == nil {
		opts.Policy = mustLoad(t, allowAll)
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	gw, err := gateway.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	return newGatewayFrom(t, gw)
}

// alive reports whether the process pid still runs (the gateway reaps its
// children, so an exited one is gone).
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// The whole MCP surface works through a shared process, sampling included
// (one session has a call in flight, so the request is its).
func TestSharedStdioEndToEnd(t *testing.T) {
	ctx := testContext(t)
	bin := testpeer.BuildEchoServer(t)
	calls := t.TempDir() + "/calls.log"
	_, url := newShareGateway(t, gateway.Options{Servers: []gateway.Server{
		{Name: "echo", Command: []string{bin, "-calls", calls}, Share: gateway.ShareShared, Lazy: true}}})
	exerciseEcho(t, ctx, url, func(name string) int { return testpeer.CallLog(t, calls)[name] })
}

// Two sessions of a shared server use one process; their concurrent calls
// each get their own results, progress reaches only the call that asked for
// it (both use the same token), and one session ending leaves the other
// working on the same process.
func TestSharedProcessKeepsSessionsApart(t *testing.T) {
	for _, tc := range []struct {
		name  string
		share string
		eager bool
	}{
		{"shared, started by the first session", gateway.ShareShared, false},
		{"shared, started by the probe", gateway.ShareShared, true},
		{"per_grant without grants: one for all", gateway.ShareGrant, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			script, pids := pidScript(t)
			gw, url := newShareGateway(t, gateway.Options{Servers: []gateway.Server{
				{Name: "echo", Command: []string{script}, Share: tc.share, Lazy: !tc.eager}}})
			if tc.eager {
				gw.StartUpstreams()
				waitFor(t, "the probe to start the server", func() bool { return gw.Upstreams()[0].State == gateway.StateReady })
			}
			type progress struct {
				mu  sync.Mutex
				got []string
			}
			var prog [2]progress
			var sessions [2]*mcp.ClientSession
			for i := range sessions {
				p := &prog[i]
				sessions[i] = connect(t, ctx, url, &mcp.ClientOptions{
					ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
						p.mu.Lock()
						p.got = append(p.got, fmt.Sprint(req.Params.ProgressToken, " ", req.Params.Message))
						p.mu.Unlock()
					},
				})
			}
			if got := readPids(t, pids); len(got) != 1 {
				t.Fatalf("two sessions started %d processes (%v), want 1", len(got), got)
			}

			const perSession = 20
			var wg sync.WaitGroup
			errs := make(chan error, 2*perSession+2)
			for i, cs := range sessions {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := range perSession {
						msg := fmt.Sprintf("session %d call %d", i, n)
						res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": msg}})
						if err != nil {
							errs <- err
							return
						}
						if got := textOf(res); got != msg {
							errs <- fmt.Errorf("session %d sent %q and got %q", i, msg, got)
						}
					}
				}()
				// Progress: the same token in both sessions, at once.
				wg.Add(1)
				go func() {
					defer wg.Done()
					params := &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 200 + 100*i}}
					params.SetProgressToken("tok")
					res, err := cs.CallTool(ctx, params)
					if err != nil {
						errs <- err
						return
					}
					if want := fmt.Sprintf("slept %dms", 200+100*i); textOf(res) != want {
						errs <- fmt.Errorf("session %d: slow answered %q, want %q", i, textOf(res), want)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			for i := range prog {
				p := &prog[i]
				waitFor(t, fmt.Sprintf("session %d's progress", i), func() bool {
					p.mu.Lock()
					defer p.mu.Unlock()
					return len(p.got) >= 5
				})
			}
			time.Sleep(100 * time.Millisecond) // room for a misrouted notification to arrive
			for i := range prog {
				p := &prog[i]
				p.mu.Lock()
				want := []string{"tok step 1 of 5", "tok step 2 of 5", "tok step 3 of 5", "tok step 4 of 5", "tok step 5 of 5"}
				if strings.Join(p.got, "|") != strings.Join(want, "|") {
					t.Errorf("session %d got progress %q, want %q", i, p.got, want)
				}
				p.mu.Unlock()
			}
			if got := readPids(t, pids); len(got) != 1 {
				t.Fatalf("the calls started %d processes (%v), want 1", len(got), got)
			}

			// One session ends: the other goes on, on the same process.
			if err := sessions[0].Close(); err != nil {
				t.Fatal(err)
			}
			res, err := sessions[1].CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "still here"}})
			if err != nil || textOf(res) != "still here" {
				t.Fatalf("after the other session ended: %v %+v", err, res)
			}
			got := readPids(t, pids)
			if len(got) != 1 || !alive(got[0]) {
				t.Fatalf("after one session ended: processes %v (alive: %v), want the one, running", got, len(got) == 1 && alive(got[0]))
			}
		})
	}
}

// A session that ends while its call is in flight on a shared process
// gets that call ended, and leaves the process, and the other session,
// alone.
func TestSharedSessionEndingMidCall(t *testing.T) {
	ctx := testContext(t)
	script, pids := pidScript(t)
	_, url := newShareGateway(t, gateway.Options{Servers: []gateway.Server{
		{Name: "echo", Command: []string{script}, Share: gateway.ShareShared, Lazy: true}}})
	inFlight := make(chan struct{}, 16)
	leaving := connect(t, ctx, url, &mcp.ClientOptions{
		ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) { inFlight <- struct{}{} },
	})
	staying := connect(t, ctx, url, nil)
	done := make(chan error, 1)
	go func() {
		params := &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 15000}}
		params.SetProgressToken("p")
		_, err := leaving.CallTool(ctx, params)
		done <- err
	}()
	select {
	case <-inFlight:
	case <-ctx.Done():
		t.Fatal("the call never reported progress")
	}
	// The session ends (the SDK's own Close would wait for the call).
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Mcp-Session-Id", leaving.ID())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // the call itself ends 12 s after its first progress
		t.Fatal("the ended session's call went on")
	}
	res, err := staying.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "ok"}})
	if err != nil || textOf(res) != "ok" {
		t.Fatalf("the other session: %v %+v", err, res)
	}
	if got := readPids(t, pids); len(got) != 1 || !alive(got[0]) {
		t.Fatalf("processes %v, want one, running", got)
	}
}

// With two sessions' calls in flight, a sampling request of the shared
// server cannot be told apart: it is refused, and the call that made it
// reports the refusal instead of reaching either client.
func TestSharedServerRequestWithTwoCallsInFlight(t *testing.T) {
	ctx := testContext(t)
	_, url := newShareGateway(t, gateway.Options{Servers: []gateway.Server{
		{Name: "echo", Command: []string{testpeer.BuildEchoServer(t)}, Share: gateway.ShareShared, Lazy: true}}})
	var asked sync.Mutex
	sampled := 0
	sampler := &mcp.ClientOptions{CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
		asked.Lock()
		sampled++
		asked.Unlock()
		return &mcp.CreateMessageResult{Model: "test", Role: "assistant", Content: &mcp.TextContent{Text: "sampled"}}, nil
	}}
	inFlight := make(chan struct{}, 16)
	a := connect(t, ctx, url, sampler)
	b := connect(t, ctx, url, &mcp.ClientOptions{
		CreateMessageHandler: sampler.CreateMessageHandler,
		ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) {
			inFlight <- struct{}{}
		},
	})
	bctx, stopB := context.WithCancel(ctx)
	defer stopB()
	slow := make(chan error, 1)
	go func() {
		params := &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 10000}}
		params.SetProgressToken("b")
		_, err := b.CallTool(bctx, params)
		slow <- err
	}()
	// b's first progress: its call is at the server, for 8 s more.
	select {
	case <-inFlight:
	case <-ctx.Done():
		t.Fatal("b's call never reported progress")
	}
	res, err := a.CallTool(ctx, &mcp.CallToolParams{Name: "sample", Arguments: map[string]any{"prompt": "hello"}})
	stopB()
	<-slow
	asked.Lock()
	n := sampled
	asked.Unlock()
	if err == nil && !res.IsError {
		t.Fatalf("sample went through with two calls in flight: %+v (clients asked %d times)", res, n)
	}
	if n != 0 {
		t.Errorf("a client was asked to sample %d times, want 0", n)
	}
	// Once the gateway has seen b's call end (the client cancelled it),
	// the same request is a's, and goes through.
	waitFor(t, "a's sampling to go through alone", func() bool {
		res, err = a.CallTool(ctx, &mcp.CallToolParams{Name: "sample", Arguments: map[string]any{"prompt": "hello"}})
		return err == nil && !res.IsError && textOf(res) == "sampled"
	})
}

// The shared process stops once the last session has ended and
// session_idle_timeout has passed, not before; the next session starts a
// new one.
func TestSharedProcessStopsWhenIdle(t *testing.T) {
	ctx := testContext(t)
	const idle = 1500 * time.Millisecond
	script, pids := pidScript(t)
	_, url := newShareGateway(t, gateway.Options{SessionIdleTimeout: idle, Servers: []gateway.Server{
		{Name: "echo", Command: []string{script}, Share: gateway.ShareShared, Lazy: true}}})
	cs := connect(t, ctx, url, nil)
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "x"}}); err != nil || textOf(res) != "x" {
		t.Fatalf("call: %v %+v", err, res)
	}
	got := readPids(t, pids)
	if len(got) != 1 {
		t.Fatalf("processes %v, want 1", got)
	}
	closing := time.Now()
	cs.Close()
	waitFor(t, "the idle process to stop", func() bool { return !alive(got[0]) })
	if took := time.Since(closing); took < idle {
		t.Errorf("the process stopped %s after the last session ended, before the idle time (%s)", took, idle)
	}
	cs = connect(t, ctx, url, nil)
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "y"}}); err != nil || textOf(res) != "y" {
		t.Fatalf("call after the restart: %v %+v", err, res)
	}
	if got := readPids(t, pids); len(got) != 2 || !alive(got[1]) {
		t.Fatalf("processes %v, want a second one, running", got)
	}
}

// per_grant: the sessions of one grant share a process, another grant gets
// its own.
func TestPerGrantProcesses(t *testing.T) {
	ctx := testContext(t)
	store := grant.NewMemory()
	_, tokA, err := grant.Create(ctx, store, grant.Spec{Subject: "alice@example.com", Policy: "p"})
	if err != nil {
		t.Fatal(err)
	}
	_, tokB, err := grant.Create(ctx, store, grant.Spec{Subject: "bob@example.com", Policy: "p"})
	if err != nil {
		t.Fatal(err)
	}
	script, pids := pidScript(t)
	verifier := &grant.Verifier{Store: store}
	gw, url := newShareGateway(t, gateway.Options{
		Authenticator: gateway.AuthenticatorFunc(verifier.Verify),
		Servers:       []gateway.Server{{Name: "echo", Command: []string{script}, Share: gateway.ShareGrant, Lazy: true}},
	})
	gw.SetNamedPolicy("p", mustLoad(t, allowAll))
	for i, tok := range []string{tokA, tokA, tokB, tokB} {
		cs := connectWithToken(t, ctx, url, tok)
		msg := fmt.Sprintf("call %d", i)
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": msg}})
		if err != nil || textOf(res) != msg {
			t.Fatalf("session %d: %v %+v", i, err, res)
		}
	}
	if got := readPids(t, pids); len(got) != 2 {
		t.Fatalf("two grants, four sessions: %d processes (%v), want 2", len(got), got)
	}
}

// A share setting the gateway cannot honour is refused.
func TestShareOptionRefused(t *testing.T) {
	for _, tc := range []struct {
		srv  gateway.Server
		want string
	}{
		{gateway.Server{Name: "web", URL: "http://127.0.0.1:1/mcp", Share: gateway.ShareShared}, "command servers only"},
		{gateway.Server{Name: "cmd", Command: []string{"true"}, Share: "everyone"}, `unknown share "everyone"`},
	} {
		_, err := gateway.New(&gateway.Options{Servers: []gateway.Server{tc.srv}, Logger: quietLogger()})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error with %q", tc.srv, err, tc.want)
		}
	}
	_, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "cmd", Command: []string{"true"}, Share: gateway.ShareSession}}, Logger: quietLogger()})
	if err != nil {
		t.Errorf("per_session: %v", err)
	}
}

// A shared process that exits is started again once, for all of its
// sessions, which each hear that its tools may have changed.
func TestSharedProcessRestartsOnce(t *testing.T) {
	ctx := testContext(t)
	script, pids := pidScript(t)
	_, url := newShareGateway(t, gateway.Options{Servers: []gateway.Server{
		{Name: "echo", Command: []string{script}, Share: gateway.ShareShared, Lazy: true}}})
	changed := make(chan int, 16)
	var sessions [2]*mcp.ClientSession
	for i := range sessions {
		sessions[i] = connect(t, ctx, url, &mcp.ClientOptions{
			ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- i },
		})
	}
	first := readPids(t, pids)
	if len(first) != 1 {
		t.Fatalf("processes %v, want 1", first)
	}
	if err := syscall.Kill(first[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	heard := map[int]bool{}
	for len(heard) < 2 {
		select {
		case i := <-changed:
			heard[i] = true
		case <-ctx.Done():
			t.Fatalf("sessions told of the restart: %v, want both", heard)
		}
	}
	for i, cs := range sessions {
		msg := fmt.Sprintf("session %d after the restart", i)
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": msg}})
		if err != nil || textOf(res) != msg {
			t.Fatalf("session %d: %v %+v", i, err, res)
		}
	}
	if got := readPids(t, pids); len(got) != 2 || !alive(got[1]) {
		t.Fatalf("processes %v, want the first and one restart, running", got)
	}
}
