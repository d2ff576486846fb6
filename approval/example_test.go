package approval_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/toolgate/toolgate/approval"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "approval-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := approval.OpenSQLite(ctx, filepath.Join(dir, "approvals.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	m := approval.NewManager(store, nil)

	// The gateway: a policy rule asked for approval of this call.
	args := map[string]any{"user_id": "user_123", "api_key": "sk_live_abc"}
	req, err := m.Request(ctx, &approval.Request{
		Tool: "DeleteUser", Server: "clerk", Subject: "agent@example.com", Rule: "/tools/DeleteUser",
	}, args, nil, 15*time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.Status, string(req.Args))

	// A human approves from the CLI, the HTTP API or the web UI.
	go func() {
		if _, err := m.Decide(ctx, req.ID, true, "admin@example.com", "ticket 42"); err != nil {
			log.Print(err)
		}
	}()

	// The gateway waits, then forwards the call if it was approved.
	done, err := m.Wait(ctx, req.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(done.Status, done.DecidedBy, done.Reason)
	// Output:
	// pending {"api_key":"[REDACTED]","user_id":"user_123"}
	// approved admin@example.com ticket 42
}

func ExampleRedact() {
	fmt.Println(string(approval.Redact(map[string]any{
		"email":    "a@example.com",
		"password": "hunter2",
		"headers":  []any{map[string]any{"Authorization": "Bearer x", "Accept": "application/json"}},
	})))
	// Output:
	// {"email":"a@example.com","headers":[{"Accept":"application/json","Authorization":"[REDACTED]"}],"password":"[REDACTED]"}
}
