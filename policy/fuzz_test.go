package policy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/toolgate/toolgate"
)

func FuzzLoad(f *testing.F) {
	f.Add([]byte(seedDoc))
	f.Add([]byte(fullDoc))
	f.Add([]byte("version: \"1\"\ndefault: allow\nhide: ['*']\n"))
	f.Add([]byte(`{"version":"1","default":"deny","tools":{"a*":{"args":{"type":"object","required":["x"]}}}}`))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte(whenAdminYAML))
	f.Add([]byte(whenAdminJSON))
	f.Add([]byte(ruleObjectDoc))
	f.Add([]byte(`{"version":"1","default":"allow","tools":{"*":{"when":"args.amount < 10 && now > timestamp(\"2020-01-01T00:00:00Z\")"}}}`))
	f.Add([]byte("version: \"1\"\ndefault: deny\ntools:\n  a:\n    when: args.x +\n"))
	f.Add([]byte(`{"version":"1","default":"deny","tools":{"x_y":{"when":"[1,2,3].all(i, [1,2,3].exists(j, i == j)) && tool.startsWith(\"x\")"}}}`))
	f.Add([]byte("{"))
	f.Add([]byte(spendDoc))
	f.Add([]byte("version: \"1\"\ndefault: allow\nall_tools:\n  limits:\n    - {counter: s, window: day, max: 9007199254740992, increment_from: args.a.b, scope: global}\n"))
	if files, _ := filepath.Glob("../docs/examples/policy/*"); len(files) > 0 {
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
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
		for _, tool := range []string{"UpdateUser", "a", "x_y", ""} {
			c := &toolgate.Call{Tool: tool, Args: map[string]any{"amount": 5.0, "x": "y"}, Categories: []string{"read"}}
			d, _ := e.Decide(c)
			if d.Action != toolgate.Allow && d.Action != toolgate.Deny && d.Action != toolgate.Approve {
				t.Fatalf("action %q", d.Action)
			}
			if d.Rule == "" {
				t.Fatal("decision without a rule")
			}
			e.Listed(tool, nil)
			e.CheckInputSchema(tool, nil)
			e.Redactor(tool, nil).Args(c.Args)
		}
	})
}
