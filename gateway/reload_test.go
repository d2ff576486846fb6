package gateway_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/gateway"
)

func decideEcho(gw *gateway.Gateway) toolgate.Action {
	d, _ := gw.Policy().Decide(&toolgate.Call{Tool: "echo", Identity: toolgate.Anonymous(), Session: "s"})
	return d.Action
}

// Watch picks up a changed policy file by itself and at once on a signal;
// a broken file leaves the last good policy in force.
func TestPolicyFileWatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.json")
	write := func(doc string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"version":"1","default":"deny","tools":{"echo":{}}}`)
	gw, err := gateway.New(&gateway.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	pf := gateway.NewPolicyFile(gw, path, nil)
	if err := pf.Load(); err != nil {
		t.Fatal(err)
	}
	if got := decideEcho(gw); got != toolgate.Allow {
		t.Fatalf("echo: %s, want allow", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 1)
	go pf.Watch(ctx, 20*time.Millisecond, sig)

	waitFor := func(want toolgate.Action) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for decideEcho(gw) != want {
			if time.Now().After(deadline) {
				t.Fatalf("policy never changed to %s for echo", want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	write(`{"version":"1","default":"deny","tools":{"echo":{"action":"deny"}}}`)
	waitFor(toolgate.Deny)

	write(`{"version":"1","default":"allow","tools":{"echo":{"action":"maybe"}}}`)
	sig <- os.Interrupt // stands in for SIGHUP: reload now
	time.Sleep(200 * time.Millisecond)
	if got := decideEcho(gw); got != toolgate.Deny {
		t.Fatalf("a broken policy replaced the good one: echo is %s", got)
	}
	write(`{"version":"1","default":"allow"}`)
	waitFor(toolgate.Allow)
}
