package policytest

import (
	"context"
	"strings"
	"testing"

	"github.com/toolgate/toolgate/policy"
)

const suite = `policy:
  version: "1"
  default: deny
  all_tools:
    limits: [{counter: all, window: minute, max: 2, scope: grant}]
  tools:
    echo: {}
    Held: {action: approve}
    Team: {when: identity.labels.team == "support"}
cases:
  - name: pass
    call: {tool: echo}
    expect: {decision: allow, kind: rule, rule: /tools/echo}
  - name: wrong decision and rule
    call: {tool: other}
    expect: {decision: allow, rule: /tools/other}
  - name: wrong reason
    call: {tool: other}
    expect: {kind: default, reason: no such words}
  - name: limit after before-calls
    before: [{tool: echo}, {tool: echo}]
    call: {tool: echo}
    expect: {decision: deny, kind: limit, rule: /all_tools/limits/0}
  - name: a refused approval gives its quota back
    before: [{tool: echo}, {tool: Held}]
    call: {tool: echo}
    expect: {decision: allow}
  - name: each case starts with empty budgets
    call: {tool: echo}
    repeat: 2
    expect: {decision: allow}
  - name: the limit is per grant
    before: [{tool: echo, identity: {grant: other}}, {tool: echo, identity: {grant: other}}]
    call: {tool: echo}
    expect: {decision: allow}
  - name: approved
    call: {tool: Held}
    approval: approve
    expect: {decision: allow, kind: approval}
  - name: refused by default
    call: {tool: Held}
    expect: {decision: deny, kind: approval, reason: stand-in human}
  - name: labels
    identity: {subject: a, grant: g, labels: {team: support}}
    call: {tool: Team}
    expect: {decision: allow}
  - name: shadow kind mismatch
    call: {tool: echo}
    expect: {kind: shadow_denied, shadow_kind: rule}
`

func TestRun(t *testing.T) {
	tf, err := policy.LoadTests([]byte(suite), "suite.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{ // case → the fields that must mismatch
		"wrong decision and rule": {"decision", "rule"},
		"wrong reason":            {"reason"},
		"shadow kind mismatch":    {"kind", "shadow_kind"},
	}
	results := Run(context.Background(), tf)
	if len(results) != len(tf.Cases) {
		t.Fatalf("%d results for %d cases", len(results), len(tf.Cases))
	}
	for _, r := range results {
		var got []string
		for _, m := range r.Mismatches {
			got = append(got, m.Field)
		}
		if strings.Join(got, ",") != strings.Join(want[r.Name], ",") || r.Pass != (len(want[r.Name]) == 0) {
			t.Errorf("%s (line %d): mismatches %v (pass %v), want %v; decision %+v", r.Name, r.Line, r.Mismatches, r.Pass, want[r.Name], r.Got)
		}
	}
	if m := results[1].Mismatches[0]; m.Want != "allow" || m.Got != "deny" {
		t.Errorf("mismatch = %+v, want allow vs deny", m)
	}
	if m := results[2].Mismatches[0]; !strings.Contains(m.Want, "no such words") || !strings.Contains(m.Got, "default deny") {
		t.Errorf("reason mismatch = %+v", m)
	}
}

// A value counter is counted across a case's before calls, in memory, and
// a case without the argument reads kind args.
func TestRunValueCounter(t *testing.T) {
	tf, err := policy.LoadTests([]byte(`policy:
  version: "1"
  default: deny
  tools:
    charge:
      limits: [{counter: spend, window: day, max: 100, increment_from: args.amount, scope: grant}]
cases:
  - name: within the budget
    before: [{tool: charge, args: {amount: 60}}]
    call: {tool: charge, args: {amount: 40}}
    expect: {decision: allow}
  - name: over the budget
    before: [{tool: charge, args: {amount: 60}}]
    call: {tool: charge, args: {amount: 41}}
    expect: {decision: deny, kind: limit, rule: /tools/charge/limits/0}
  - name: no amount
    call: {tool: charge, args: {}}
    expect: {decision: deny, kind: args, rule: /tools/charge/limits/0/increment_from}
`), "values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Run(context.Background(), tf) {
		if !r.Pass {
			t.Errorf("%s: %+v", r.Name, r.Mismatches)
		}
	}
}
