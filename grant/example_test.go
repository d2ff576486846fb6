package grant_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/toolgate/toolgate/grant"
)

// A grant is created once; its token is shown once and then checked on
// every request.
func ExampleVerify() {
	ctx := context.Background()
	store := grant.NewMemory()
	g, token, err := grant.Create(ctx, store, grant.Spec{
		Subject: "alice@example.com",
		Policy:  "default",
		Labels:  map[string]string{"team": "support"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(token, "tg_"), len(token))

	got, err := grant.Verify(ctx, store, token)
	fmt.Println(got.ID == g.ID, got.Subject, got.Identity().Labels["team"], err)

	// Rotating gives a new token; the old one is refused at once, with the
	// same error as any other refused token.
	_, newToken, _ := grant.Rotate(ctx, store, g.ID)
	_, err = grant.Verify(ctx, store, token)
	fmt.Println(errors.Is(err, grant.ErrInvalidToken), err)
	_, err = grant.Verify(ctx, store, newToken)
	fmt.Println(err)
	// Output:
	// true 46
	// true alice@example.com support <nil>
	// true invalid or expired token
	// <nil>
}

// A SQLite store lives in a file, usually the configuration's store:.
func ExampleOpenSQLite() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "grant-example")
	defer os.RemoveAll(dir)
	store, err := grant.OpenSQLite(ctx, filepath.Join(dir, "toolgate.db"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	g, _, err := grant.Create(ctx, store, grant.Spec{Subject: "agent:support-bot", Policy: "default", Servers: []string{"clerk"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	revoked, _ := store.Revoke(ctx, g.ID, g.CreatedAt)
	fmt.Println(revoked.Subject, revoked.Servers, revoked.Revoked)
	// Output:
	// agent:support-bot [clerk] true
}
