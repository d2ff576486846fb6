package scan

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/policy"
)

// recommendGroupTools bounds the tools of one recommendation in these
// tests: the policy of the whole corpus (over 4,000 tools) is larger than
// the policy loader accepts (policy.MaxDocumentSize), which Recommend
// reports as an error (TestRecommendTooLarge).
const recommendGroupTools = 1500

// corpusResultGroups scans the servers of the corpus, each under its name
// as prefix, as a gateway with default prefixes would show them, in groups
// of consecutive servers of at most recommendGroupTools tools.
func corpusResultGroups(t *testing.T) [][]ServerResult {
	t.Helper()
	names, lists := corpusLists(t)
	var out [][]ServerResult
	var group []ServerResult
	n := 0
	for _, name := range names {
		sr := Scan(name, "file", lists[name].Tools)
		sr.Prefix = name + "_"
		if n+len(sr.Tools) > recommendGroupTools && len(group) > 0 {
			out, group, n = append(out, group), nil, 0
		}
		group, n = append(group, sr), n+len(sr.Tools)
	}
	return append(out, group)
}

// A recommendation larger than the policy loader accepts is an error that
// says so, not a document that will not load.
func TestRecommendTooLarge(t *testing.T) {
	var all []ServerResult
	for _, g := range corpusResultGroups(t) {
		all = append(all, g...)
	}
	if _, err := Recommend(all); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("Recommend of %d servers: err = %v, want the loader's size limit", len(all), err)
	}
}

// The recommended policy for the whole corpus follows the signals, in
// toolgate's JSON, through the real loader: Read 120/min; Write 30/min;
// messaging and personal-data writes 10/min with their sensitive
// arguments redacted in the audit log; Destructive and Financial approve;
// poisoned tools denied.
func TestRecommendFollowsSignals(t *testing.T) {
	// Every kind of rule is written somewhere in the corpus; a group of
	// a few servers need not have them all.
	total := map[string]int{}
	for _, res := range corpusResultGroups(t) {
		for k, v := range recommendFollowsSignals(t, res) {
			total[k] += v
		}
	}
	if total["redacted"] == 0 || total["sensitive write"] == 0 || total["approve"] == 0 || total["poisoned"] == 0 {
		t.Errorf("counts %v", total)
	}
}

func recommendFollowsSignals(t *testing.T, res []ServerResult) map[string]int {
	t.Helper()
	doc, err := Recommend(res)
	if err != nil {
		t.Fatal(err)
	}
	e, err := policy.Load(doc, "recommended.json")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Tools map[string]struct {
			Action string   `json:"action"`
			Redact []string `json:"redact"`
			Limits []struct {
				Max   int    `json:"max"`
				Scope string `json:"scope"`
			} `json:"limits"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(doc, &p); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, sr := range res {
		for i := range sr.Tools {
			r := &sr.Tools[i]
			name := sr.Prefix + r.Name
			rule, ok := p.Tools[PolicyKey(sr.Prefix, r.Name)]
			if !ok {
				t.Errorf("%s: no rule", name)
				continue
			}
			sensitive := r.Has(SigMessaging) || r.Has(SigPII)
			var want, got int
			if len(rule.Limits) > 0 {
				got = rule.Limits[0].Max
			}
			switch {
			case r.Has(SigInjection) || r.Has(SigUnicode):
				if rule.Action != "deny" {
					t.Errorf("%s: poisoned, action %q", name, rule.Action)
				}
				counts["poisoned"]++
				continue
			case r.Category == Destructive || r.Category == Financial:
				if rule.Action != "approve" {
					t.Errorf("%s: %s, action %q", name, r.Category, rule.Action)
				}
				counts["approve"]++
			case r.Category == Read:
				want = ReadPerMinute
				counts["read"]++
			case sensitive:
				want = SensitivePerMinute
				counts["sensitive write"]++
			default:
				want = WritePerMinute
				counts["write"]++
			}
			if want != 0 && got != want {
				t.Errorf("%s (%s, %v): limit %d, want %d", name, r.Category, sensitive, got, want)
			}
			if len(rule.Redact) > 0 {
				counts["redacted"]++
				if r.Category == Read || !sensitive {
					t.Errorf("%s: redacts %v without writing personal data or messages", name, rule.Redact)
				}
				rd := e.Redactor(name, r.Categories())
				if rd == nil || len(rd.Pointers()) != len(rule.Redact) {
					t.Errorf("%s: the loaded policy does not redact %v", name, rule.Redact)
				}
			}
		}
	}
	t.Logf("corpus recommendation: %v", counts)
	if !groupHas(res, "resend-mcp") {
		return counts
	}
	// resend's send-email: 10 a minute, recipients and content redacted in
	// what the audit log records.
	name := "resend-mcp_send-email"
	rule := p.Tools[name]
	for _, ptr := range []string{"/to", "/subject", "/html", "/cc", "/bcc"} {
		if !hasString(rule.Redact, ptr) {
			t.Errorf("%s: redact %v lacks %s", name, rule.Redact, ptr)
		}
	}
	rd := e.Redactor(name, []string{"write"})
	masked := string(rd.Args(map[string]any{"to": "ada@example.org", "subject": "hi", "html": "<p>secret plans</p>", "from": "me@example.org"}))
	if strings.Contains(masked, "ada@example.org") || strings.Contains(masked, "secret plans") {
		t.Errorf("audit args not redacted: %s", masked)
	}
	d, _ := e.Decide(&toolgate.Call{Tool: name, Categories: []string{"write"}, Args: map[string]any{}, Identity: toolgate.Anonymous()})
	if !d.Allowed() {
		t.Errorf("%s: %+v", name, d)
	}
	return counts
}

// groupHas reports whether a group of scanned servers holds server.
func groupHas(res []ServerResult, server string) bool {
	for _, sr := range res {
		if sr.Name == server {
			return true
		}
	}
	return false
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The same recommendation in Intercept's YAML loads through the real
// loader, keeps approve and deny, counts its limits globally, and says in
// comments what Intercept cannot express (redaction, args schemas).
func TestRecommendIntercept(t *testing.T) {
	for _, res := range corpusResultGroups(t) {
		recommendIntercept(t, res)
	}
}

func recommendIntercept(t *testing.T, res []ServerResult) {
	t.Helper()
	doc, err := RecommendIntercept(res)
	if err != nil {
		t.Fatal(err)
	}
	e, err := policy.Load(doc, "recommended.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	text := string(doc)
	wants := []string{"# Recommended by toolgate scan", "require_approval", "rate_limit"}
	// A group whose toolgate policy redacts says in the YAML that
	// Intercept cannot.
	if js, err := Recommend(res); err == nil && strings.Contains(string(js), `"redact"`) {
		wants = append(wants, "redaction has no Intercept equivalent")
	}
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("the YAML lacks %q", want)
		}
	}
	call := func(tool, cat string) toolgate.Decision {
		d, _ := e.Decide(&toolgate.Call{Tool: tool, Categories: []string{cat}, Args: map[string]any{}, RawArgs: json.RawMessage(`{}`), Identity: toolgate.Anonymous()})
		return d
	}
	if groupHas(res, "server-github") {
		if d := call("server-github_get_issue", "read"); !d.Allowed() {
			t.Errorf("a Read tool: %+v", d)
		}
		if d := call("server-github_delete_file", "destructive"); d.Allowed() {
			t.Errorf("a Destructive tool allowed without approval: %+v", d)
		}
	}
	if d := call("nobody_unknown", "write"); d.Allowed() {
		t.Errorf("an unknown tool: %+v", d)
	}
}

// A property whose variants (anyOf) share a member's path, as a
// debugger's "action" with an "address" in each variant, is redacted
// once: the loader refuses a pointer listed twice.
func TestRecommendRedactsVariantsOnce(t *testing.T) {
	tool := Tool{
		Name:        "send_message_at",
		Description: "Send an email to a contact.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"action":{"anyOf":[
			{"type":"object","properties":{"kind":{"const":"a"},"email":{"type":"string"}}},
			{"type":"object","properties":{"kind":{"const":"b"},"email":{"type":"string"}}},
			{"type":"object","properties":{"kind":{"const":"c"},"email":{"type":"string"}}}]},
			"to":{"type":"string"},"subject":{"type":"string"}}}`),
	}
	sr := Scan("mail", "test", []Tool{tool})
	doc, err := Recommend([]ServerResult{sr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := policy.Load(doc, "recommended.json"); err != nil {
		t.Fatalf("recommended policy does not load: %v", err)
	}
	if n := strings.Count(string(doc), `"/action/email"`); n != 1 {
		t.Errorf("/action/email redacted %d times, want once:\n%s", n, doc)
	}
}
