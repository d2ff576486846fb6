package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/toolgate/toolgate"
)

const whenAdminYAML = `version: "1"
default: deny
tools:
  UpdateUser:
    when: '!has(args.password) || identity.labels.role == "admin"'
    on_deny: only admins may set a password
`

const whenAdminJSON = `{"version":"1","default":"deny","tools":{"UpdateUser":{
  "when": "!has(args.password) || identity.labels.role == \"admin\"",
  "on_deny": "only admins may set a password"}}}`

func TestWhenAdminPassword(t *testing.T) {
	admin := &toolgate.Identity{Subject: "root", Grant: "g1", Labels: map[string]string{"role": "admin"}}
	user := &toolgate.Identity{Subject: "bob", Grant: "g2", Labels: map[string]string{"role": "support"}}
	const secret = "hunter2-very-secret"
	tests := []struct {
		name  string
		id    *toolgate.Identity
		args  map[string]any
		allow bool
	}{
		{"admin with password", admin, map[string]any{"password": secret}, true},
		{"admin without password", admin, map[string]any{"first_name": "A"}, true},
		{"user with password", user, map[string]any{"password": secret}, false},
		{"user without password", user, map[string]any{"first_name": "A"}, true},
		{"user without args", user, nil, true},
		{"anonymous with password", toolgate.Anonymous(), map[string]any{"password": secret}, false},
		// identity.labels.role on an identity without a role is an
		// evaluation error: denied, not allowed.
		{"no labels with password", &toolgate.Identity{Subject: "x"}, map[string]any{"password": secret}, false},
		{"nil identity with password", nil, map[string]any{"password": secret}, false},
	}
	for _, doc := range []struct{ name, text string }{{"yaml", whenAdminYAML}, {"json", whenAdminJSON}} {
		e := mustLoad(t, doc.text)
		for _, tt := range tests {
			t.Run(doc.name+"/"+tt.name, func(t *testing.T) {
				d, _ := e.Decide(&toolgate.Call{Tool: "UpdateUser", Identity: tt.id, Args: tt.args})
				if d.Allowed() != tt.allow {
					t.Fatalf("got %+v, want allow=%v", d, tt.allow)
				}
				if tt.allow {
					if d.Rule != "/tools/UpdateUser" || d.Kind != KindRule {
						t.Fatalf("%+v", d)
					}
					return
				}
				if d.Rule != "/tools/UpdateUser/when" || d.Kind != KindRule {
					t.Fatalf("%+v", d)
				}
				if strings.Contains(d.Reason, secret) {
					t.Fatalf("reason quotes the argument: %q", d.Reason)
				}
				if tt.id != nil && tt.id.Labels != nil && d.Reason != "only admins may set a password" {
					t.Fatalf("reason %q, want on_deny", d.Reason)
				}
			})
		}
	}
}

func TestWhenDecisions(t *testing.T) {
	id := &toolgate.Identity{Subject: "alice", Grant: "g1", Policy: "default", Labels: map[string]string{"team": "support"}}
	big := make([]any, 5000)
	for i := range big {
		big[i] = float64(i)
	}
	const secret = "s3cr3t-value"
	tests := []struct {
		name   string
		when   string
		args   map[string]any
		allow  bool
		reason string // substring of the reason when denied
	}{
		{"true", `true`, nil, true, ""},
		{"false without on_deny", `false`, nil, false, "denied by policy because the condition at /tools/t/when is false"},
		{"now", `now > timestamp("2020-01-01T00:00:00Z")`, nil, true, ""},
		{"now in the past", `now < timestamp("2020-01-01T00:00:00Z")`, nil, false, "is false"},
		{"tool and server", `tool == "t" && server == "srv"`, nil, true, ""},
		{"identity whole", `identity == identity && [identity][0].subject == "alice"`, nil, true, ""},
		{"identity presence", `has(identity.subject) && has(identity.labels) && identity.labels.size() == 1`, nil, true, ""},
		{"identity built", `toolgate.Identity{subject: "alice"} == identity`, nil, false, "could not be evaluated"},
		{"identity fields", `identity.subject == "alice" && identity.grant == "g1" && identity.policy == "default"`, nil, true, ""},
		{"label present", `"team" in identity.labels && identity.labels.team == "support"`, nil, true, ""},
		{"label missing, in pattern", `"role" in identity.labels && identity.labels.role == "admin"`, nil, false, "is false"},
		{"label missing, direct", `identity.labels.role == "admin"`, nil, false, "could not be evaluated"},
		{"arg prefix", `args.user_id.startsWith("user_")`, map[string]any{"user_id": "user_12"}, true, ""},
		{"arg prefix fails", `args.user_id.startsWith("user_")`, map[string]any{"user_id": secret}, false, "is false"},
		{"missing arg", `args.password == "x"`, map[string]any{}, false, "could not be evaluated"},
		{"has", `!has(args.password)`, map[string]any{"password": secret}, false, "is false"},
		{"number", `args.amount <= 100`, map[string]any{"amount": 50.0}, true, ""},
		{"json number", `args.amount <= 100`, map[string]any{"amount": json.Number("50")}, true, ""},
		{"nested json numbers", `args.items.all(i, i.price < 10) && args.items.map(i, i.price).exists(p, p == 2)`,
			map[string]any{"items": []any{map[string]any{"price": json.Number("2")}, map[string]any{"price": json.Number("2.5")}}}, true, ""},
		{"type mismatch", `args.amount <= 100`, map[string]any{"amount": secret}, false, "could not be evaluated"},
		{"int conversion of a secret", `int(args.pin) > 0`, map[string]any{"pin": secret}, false, "could not be evaluated"},
		{"cost limit", `args.list.all(x, args.list.all(y, x + y >= 0))`, map[string]any{"list": big}, false, "exceeded its cost limit"},
		{"cost limit, string repeat", `args.list.map(x, string(x)).size() > 0`, map[string]any{"list": big}, false, "exceeded its cost limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := json.Marshal(map[string]any{"version": "1", "default": "deny",
				"tools": map[string]any{"t": map[string]any{"when": tt.when}}})
			e := mustLoad(t, string(doc))
			d, _ := e.Decide(&toolgate.Call{Tool: "t", Server: "srv", Identity: id, Args: tt.args})
			if d.Allowed() != tt.allow {
				t.Fatalf("got %+v, want allow=%v", d, tt.allow)
			}
			if tt.allow {
				return
			}
			if d.Rule != "/tools/t/when" || d.Kind != KindRule || !strings.Contains(d.Reason, tt.reason) {
				t.Fatalf("got %+v, want reason containing %q", d, tt.reason)
			}
			if strings.Contains(d.Reason, secret) {
				t.Fatalf("reason quotes the argument: %q", d.Reason)
			}
		})
	}
}

// TestWhenOrder: when runs after require, deny_if and args, and a rule's
// action deny wins over it.
func TestWhenOrder(t *testing.T) {
	e := mustLoad(t, `{"version":"1","default":"deny","tools":{
		"t": {"require": ["args.a"], "args": {"properties": {"a": {"type": "string"}}}, "when": "args.a == \"ok\""},
		"d": {"action": "deny", "when": "true"},
		"p": {"action": "approve", "when": "args.a == \"ok\""}}}`)
	tests := []struct {
		tool   string
		args   map[string]any
		action toolgate.Action
		rule   string
	}{
		{"t", nil, toolgate.Deny, "/tools/t/require/0"},
		{"t", map[string]any{"a": 1.0}, toolgate.Deny, "/tools/t/args/properties/a/type"},
		{"t", map[string]any{"a": "no"}, toolgate.Deny, "/tools/t/when"},
		{"t", map[string]any{"a": "ok"}, toolgate.Allow, "/tools/t"},
		{"d", nil, toolgate.Deny, "/tools/d"},
		{"p", map[string]any{"a": "no"}, toolgate.Deny, "/tools/p/when"},
		{"p", map[string]any{"a": "ok"}, toolgate.Approve, "/tools/p"},
	}
	for _, tt := range tests {
		d, _ := e.Decide(&toolgate.Call{Tool: tt.tool, Args: tt.args, Identity: toolgate.Anonymous()})
		if d.Action != tt.action || d.Rule != tt.rule {
			t.Errorf("%s %v: got %+v, want %s %s", tt.tool, tt.args, d, tt.action, tt.rule)
		}
	}
}

func TestWhenLoadErrors(t *testing.T) {
	y := func(when string) string {
		return "version: \"1\"\ndefault: deny\ntools:\n  a:\n    when: " + when + "\n"
	}
	tests := []struct {
		name string
		doc  string
		want []wantErr
	}{
		{"not bool", y("args.x + 1"), []wantErr{{5, 11, "/tools/a/when", "it must be a bool, but it is int"}}},
		{"dyn is not bool", y("args.flag"), []wantErr{{5, 11, "/tools/a/when", "it must be a bool, but it is dyn"}}},
		{"string", y(`tool + "x"`), []wantErr{{5, 11, "/tools/a/when", "it must be a bool, but it is string"}}},
		{"syntax", y("args.x +"), []wantErr{{5, 11, "/tools/a/when", "invalid condition at line 1, column 9 of the expression: Syntax error"}}},
		{"undeclared", y("foo == 1"), []wantErr{{5, 11, "/tools/a/when", "invalid condition at line 1, column 1 of the expression: undeclared reference to 'foo'"}}},
		{"two problems", y("foo == 1 && bar"), []wantErr{
			{5, 11, "/tools/a/when", "column 1 of the expression: undeclared reference to 'foo'"},
			{5, 11, "/tools/a/when", "column 13 of the expression: undeclared reference to 'bar'"}}},
		{"misspelt identity field", y(`identity.subjet == "a"`), []wantErr{{5, 11, "/tools/a/when", "column 9 of the expression: undefined field 'subjet'"}}},
		{"label compared with a number", y(`identity.labels.role == 1`), []wantErr{{5, 11, "/tools/a/when", "found no matching overload for '_==_' applied to '(string, int)'"}}},
		{"no such overload", y(`tool > 1`), []wantErr{{5, 11, "/tools/a/when", "found no matching overload"}}},
		{"multi-line", "version: \"1\"\ndefault: deny\ntools:\n  a:\n    when: |\n      args.x == 1 &&\n      bar\n",
			[]wantErr{{5, 11, "/tools/a/when", "invalid condition at line 2, column 1 of the expression: undeclared reference to 'bar'"}}},
		{"not a string", y("5"), []wantErr{{5, 11, "/tools/a/when", "must be a string"}}},
		{"too deep", y("'" + strings.Repeat("[", 40) + strings.Repeat("]", 40) + " == []'"), []wantErr{{5, 11, "/tools/a/when", "invalid condition: expression recursion limit exceeded: 32"}}},
		{"too long", y(strings.Repeat("true && ", 600) + "true"), []wantErr{{5, 11, "/tools/a/when", "invalid condition: expression code point size exceeds limit"}}},
		{"JSON", `{"version":"1","default":"deny","tools":{"a":{"when":"foo"}}}`,
			[]wantErr{{1, 54, "/tools/a/when", "undeclared reference to 'foo'"}}},
		{"with other errors", `{"version":"1","default":"deny","tools":{"a":{"action":"approve","when":"1","approval":{"timeout":"soon"}}}}`,
			[]wantErr{{1, 73, "/tools/a/when", "must be a bool"}, {1, 99, "/tools/a/approval/timeout", "timeout must be a duration"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErrors(t, tt.doc, tt.want) })
	}
}

func TestWhenTooMany(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"version":"1","default":"deny","tools":{`)
	for i := range MaxWhens + 5 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"t%d":{"when":"true"}`, i)
	}
	b.WriteString("}}")
	_, err := Load([]byte(b.String()), "p")
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || !strings.Contains(list[0].Message, "too many when conditions") {
		t.Fatalf("got %v", err)
	}
}

// TestWhenDocs loads the example and the idioms of docs/policy.md's
// Conditions section, so that they cannot drift from the code.
func TestWhenDocs(t *testing.T) {
	data, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	const head = "### Example: only admins set a password\n"
	i := strings.Index(doc, head)
	if i < 0 {
		t.Fatal("docs/policy.md has no when example")
	}
	rest := doc[i+len(head):]
	start := strings.Index(rest, "```yaml\n")
	end := strings.Index(rest[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no yaml block after the when example heading")
	}
	e := mustLoad(t, rest[start+8:start+8+end])
	admin := &toolgate.Identity{Subject: "a", Labels: map[string]string{"role": "admin"}}
	user := &toolgate.Identity{Subject: "u", Labels: map[string]string{"role": "support"}}
	for _, tt := range []struct {
		id    *toolgate.Identity
		args  map[string]any
		allow bool
	}{
		{admin, map[string]any{"password": "x"}, true},
		{user, map[string]any{"password": "x"}, false},
		{user, map[string]any{"first_name": "x"}, true},
		{toolgate.Anonymous(), map[string]any{"password": "x"}, false},
	} {
		d, _ := e.Decide(&toolgate.Call{Tool: "UpdateUser", Identity: tt.id, Args: tt.args})
		if d.Allowed() != tt.allow {
			t.Errorf("%+v %v: %+v", tt.id, tt.args, d)
		}
		if !d.Allowed() && d.Reason != "Only an admin may set a user's password." && tt.id.Labels != nil {
			t.Errorf("reason %q", d.Reason)
		}
	}
	// The idioms table: every expression compiles.
	j := strings.Index(doc, "| Want | Write |")
	if j < 0 {
		t.Fatal("no idioms table")
	}
	n := 0
	for _, line := range strings.Split(doc[j:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.ReplaceAll(line, `\|`, "\x00"), "|")
		expr := strings.ReplaceAll(strings.Trim(strings.TrimSpace(cells[2]), "`"), "\x00", "|")
		y, _ := json.Marshal(expr)
		mustLoad(t, `{"version":"1","default":"deny","tools":{"t":{"when":`+string(y)+`}}}`)
		n++
	}
	if n == 0 {
		t.Fatal("empty idioms table")
	}
	// The now example of the variables table.
	mustLoad(t, `{"version":"1","default":"deny","tools":{"t":{"when":"now > timestamp(\"2026-01-01T00:00:00Z\") && now.getHours(\"Europe/Paris\") < 18"}}}`)
}
