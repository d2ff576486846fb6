package policy

import (
	"context"
	"testing"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/limit/memory"
)

func BenchmarkDecide(b *testing.B) {
	e := mustLoad(b, fullDoc)
	id := &toolgate.Identity{Subject: "alice", Grant: "g1"}
	run := func(name string, c *toolgate.Call, allow bool) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d, _ := e.Decide(c)
				if d.Allowed() != allow {
					b.Fatal(d)
				}
			}
		})
	}
	seed := mustLoad(b, seedDoc)
	b.Run("exact_allow_limit", func(b *testing.B) {
		c := &toolgate.Call{Tool: "UpdateUser", Identity: id}
		b.ReportAllocs()
		for b.Loop() {
			if d, l := seed.Decide(c); !d.Allowed() || len(l) != 1 {
				b.Fatal(d)
			}
		}
	})
	run("args_schema", &toolgate.Call{Tool: "UpdateUser", Identity: id, Args: map[string]any{"skip_password_checks": false, "first_name": "A"}}, true)
	run("args_schema_deny", &toolgate.Call{Tool: "UpdateUser", Identity: id, Args: map[string]any{"skip_password_checks": true}}, false)
	run("predicates", &toolgate.Call{Tool: "create_charge", Identity: id, Args: map[string]any{"reason": "r", "currency": "usd", "amount": 50.0}}, true)
	run("glob", &toolgate.Call{Tool: "clerk_GetUser", Identity: id}, true)
	run("glob_catch_all", &toolgate.Call{Tool: "nope", Identity: id}, true)

	// when: a CEL condition over the arguments and the identity's labels.
	we := mustLoad(b, whenAdminJSON)
	admin := &toolgate.Identity{Subject: "root", Grant: "g1", Labels: map[string]string{"role": "admin"}}
	for _, w := range []struct {
		name  string
		c     *toolgate.Call
		allow bool
	}{
		{"when_args_only", &toolgate.Call{Tool: "UpdateUser", Identity: id, Args: map[string]any{"first_name": "A"}}, true},
		{"when_identity", &toolgate.Call{Tool: "UpdateUser", Identity: admin, Args: map[string]any{"password": "p"}}, true},
		{"when_deny", &toolgate.Call{Tool: "UpdateUser", Identity: &toolgate.Identity{Subject: "bob", Labels: map[string]string{"role": "user"}}, Args: map[string]any{"password": "p"}}, false},
	} {
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d, _ := we.Decide(w.c); d.Allowed() != w.allow {
					b.Fatal(d)
				}
			}
		})
	}
}

func BenchmarkEnforce(b *testing.B) {
	e := mustLoad(b, seedDoc)
	l := memory.New(nil)
	ctx := context.Background()
	c := &toolgate.Call{Tool: "UpdateUser", Identity: &toolgate.Identity{Subject: "alice", Grant: "g1"}}
	_, limits := e.Decide(c)
	lim := limits[0]
	lim.Max = 1 << 30 // never refuse during the benchmark
	limits = []Limit{lim}
	b.ReportAllocs()
	for b.Loop() {
		if d, err := Enforce(ctx, l, c, limits); err != nil || !d.Allowed() {
			b.Fatal(d, err)
		}
	}
}
