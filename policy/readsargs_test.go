package policy

import "testing"

func TestReadsArgs(t *testing.T) {
	const doc = `{"version":"1","default":"deny","hide":["secret"],
  "tools":{
    "plain":{},
    "req":{"require":["args.reason"]},
    "denyif":{"deny_if":["identity.labels.team == \"ops\"","args.amount > 10"]},
    "byident":{"require":["identity.labels.team == \"ops\""]},
    "schema":{"args":{"type":"object"}},
    "whenargs":{"when":"has(args.x)"},
    "whenident":{"when":"identity.subject == \"alice\""},
    "off":{"action":"deny","require":["args.reason"]},
    "secret":{"require":["args.reason"]}}}`
	const ic = `version: "1"
tools:
  add:
    rules:
      - name: small
        conditions:
          - path: args.a
            op: lte
            value: 10
  echo:
    rules:
      - name: limited
        rate_limit: 2/day
  charge:
    rules:
      - name: spend
        conditions:
          - path: state.charge.spend
            op: lte
            value: 100
        state:
          counter: spend
          window: day
          increment_from: args.amount
`
	tg, err := Load([]byte(doc), "tg.json")
	if err != nil {
		t.Fatal(err)
	}
	icEng, err := Load([]byte(ic), "ic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		eng  *Engine
		tool string
		want string
	}{
		{tg, "plain", ""},
		{tg, "req", "/tools/req/require/0"},
		{tg, "denyif", "/tools/denyif/deny_if/1"},
		{tg, "byident", ""},
		{tg, "schema", "/tools/schema/args"},
		{tg, "whenargs", "/tools/whenargs/when"},
		{tg, "whenident", ""},
		{tg, "off", ""},
		{tg, "secret", ""},  // hidden: refused before any argument is read
		{tg, "unknown", ""}, // the default reads nothing
		{nil, "plain", ""},
		{icEng, "add", "/tools/add/rules/0"},
		{icEng, "echo", ""},
		{icEng, "charge", "/tools/charge/rules/0"},
		{icEng, "other", ""},
	}
	for _, tt := range tests {
		t.Run(tt.eng.Format()+"/"+tt.tool, func(t *testing.T) {
			if got := tt.eng.ReadsArgs(tt.tool, nil); got != tt.want {
				t.Errorf("ReadsArgs(%q) = %q, want %q", tt.tool, got, tt.want)
			}
		})
	}
}
