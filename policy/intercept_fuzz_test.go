package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/limit/memory"
)

// FuzzLoadIntercept feeds documents in Intercept's format to Load and
// decides calls with whatever loads: Load returns an engine or a
// non-empty error list, and a decision always has an action and a rule.
func FuzzLoadIntercept(f *testing.F) {
	f.Add([]byte("version: \"1\"\ntools:\n  a:\n    rules: []\n"))
	f.Add([]byte("version: \"1\"\ndefault: deny\nhide: [\"*\", b]\ntools:\n  a:\n    rules:\n      - {name: r, rate_limit: 2/minute}\n  \"*\":\n    rules:\n      - {name: g, conditions: [{path: state._global.n, op: lt, value: 3}], state: {counter: n, window: hour, increment_from: args.x.y}}\n"))
	f.Add([]byte(`{"version":"1","tools":{"a":{"rules":[{"name":"x","conditions":[{"path":"args.a","op":"regex","value":"^(a|b)+$"}]}]}}}`))
	f.Add([]byte("version: 1\ntools:\n  a:\n    rules:\n      - &r {name: x, action: deny}\n      - *r\n"))
	f.Add([]byte("tools:\n  a:\n    rules:\n      - {name: x, conditions: [{path: args.a, op: contains, value: [1]}]}\n"))
	f.Add([]byte("version: \"1\"\ntools:\n  \"*\":\n    rules:\n      - {name: a, action: require_approval, approval_timeout: 1h30m}\n      - {name: b, action: deny, approval_timeout: x}\n"))
	if files, _ := filepath.Glob("../docs/examples/intercept/*.yaml"); len(files) > 0 {
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	now := time.Date(2026, 3, 4, 23, 59, 30, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Load(data, "fuzz")
		if err != nil {
			if e != nil {
				t.Fatal("engine and error")
			}
			if len(err.(ErrorList)) == 0 {
				t.Fatal("empty error list")
			}
			return
		}
		ctx := context.Background()
		counters := memory.NewCounters(func() time.Time { return now })
		args := map[string]any{"a": "ab", "amount": 5.0, "x": map[string]any{"y": 2.0}, "l": []any{1.0, "s"}}
		for _, tool := range []string{"a", "b", "*", "create_charge", ""} {
			for i := 0; i < 3; i++ {
				c := &toolgate.Call{Tool: tool, Args: args}
				o := e.EvaluateState(ctx, c, counters)
				d := o.Decision
				if d.Action != toolgate.Allow && d.Action != toolgate.Deny && d.Action != toolgate.Approve {
					t.Fatalf("action %q", d.Action)
				}
				if d.Rule == "" {
					t.Fatal("decision without a rule")
				}
				if d.Allowed() {
					if _, rd, err := ReserveCounters(ctx, counters, o.Counters); err != nil || rd.Action == "" {
						t.Fatalf("reserve: %v %+v", err, rd)
					}
				}
			}
			e.Listed(tool, nil)
		}
	})
}
