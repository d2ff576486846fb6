package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/limit/memory"
)

// The golden files under testdata/intercept-golden hold Intercept's own
// decisions on generated call sequences, recorded by running its binary
// (see the README there). This test replays every sequence through
// toolgate's engine and counters and asserts the same allow or deny per
// call, the same denial text, and the same listed tools.

const goldenDir = "testdata/intercept-golden"

type icgEntry struct {
	Name    string `json:"name"`
	Source  string `json:"source"`
	Policy  string `json:"policy"`
	Variant string `json:"variant"`
}

type icgGolden struct {
	InterceptCommit string        `json:"intercept_commit"`
	Recorded        string        `json:"recorded"`
	Source          string        `json:"source"`
	Policy          string        `json:"policy"`
	Variant         string        `json:"variant"`
	Loads           bool          `json:"loads"`
	LoadError       string        `json:"load_error"`
	Sequences       []icgSequence `json:"sequences"`
}

type icgSequence struct {
	Name    string    `json:"name"`
	Offered []string  `json:"offered"`
	Listed  []string  `json:"listed"`
	Calls   []icgCall `json:"calls"`
}

type icgCall struct {
	Tool          string          `json:"tool"`
	Args          json.RawMessage `json:"args"`
	Note          string          `json:"note"`
	UpstreamError bool            `json:"upstream_error"`
	Allowed       bool            `json:"allowed"`
	Denial        string          `json:"denial"`
}

// icgKnown are the calls where toolgate decides differently from Intercept
// on purpose, each listed in docs/intercept.md ("What differs from
// Intercept"): a call matches when its golden file (any when empty), the
// end of its sequence's name, and its note or (when index is not -1) its
// index in the sequence match.
var icgKnown = []struct {
	golden, sequence, note string
	index                  int
	why                    string
}{
	{"", ": increment_from amounts", "amount negative", -1,
		"a negative increment_from amount is refused; Intercept subtracts it from the budget"},
	{"toolgate-ops", `"cost budget": fractional amounts`, "", 10, icgFraction},
	{"toolgate-ops", `"cost budget": fractional amounts`, "", 11, icgFraction},
	{"toolgate-ops-default-deny", `"cost budget": fractional amounts`, "", 10, icgFraction},
	{"toolgate-ops-default-deny", `"cost budget": fractional amounts`, "", 11, icgFraction},
}

const icgFraction = "a fractional increment_from amount counts as the next whole number; Intercept drops the fraction, so twelve calls of 0.5 fit its budget of 10"

func icgKnownCall(golden, sequence, note string, index int) (string, bool) {
	for _, k := range icgKnown {
		if (k.golden == "" || k.golden == golden) && strings.HasSuffix(sequence, k.sequence) &&
			(k.index == -1 && k.note == note || k.index != -1 && k.index == index) {
			return k.why, true
		}
	}
	return "", false
}

// icgKnownLoad are the policies Intercept loads and toolgate refuses on
// purpose, each listed in docs/intercept.md.
var icgKnownLoad = map[string]string{
	"toolgate-load-unknown-key":        "unknown keys are load errors (Intercept ignores them)",
	"toolgate-load-negative-increment": "increment must be a whole number of at least 0",
}

// icgVariant is the transformation of a policy file the golden file names,
// as the recording harness applied it: the scaffolds' own instructions in
// their comments, followed literally.
func icgVariant(text, variant string) (string, error) {
	switch variant {
	case "":
		return text, nil
	case "default-deny": // "Set to "deny" to reject tool calls not listed below"
		const allow = "\ndefault: \"allow\"\n"
		if !strings.Contains(text, allow) {
			return "", fmt.Errorf("no default: \"allow\" line")
		}
		return strings.Replace(text, allow, "\ndefault: \"deny\"\n", 1), nil
	case "uncomment-global", "uncomment-global-reindented": // "Uncomment to apply a global rate limit"
		lines := strings.Split(text, "\n")
		found := false
		for i, l := range lines {
			if !strings.HasPrefix(l, "  # Uncomment to apply a global rate limit") {
				continue
			}
			for j := i + 1; j < len(lines) && j <= i+4 && strings.HasPrefix(lines[j], "  # "); j++ {
				indent := "  " // the comment's "# " dropped, as a reader would
				if variant == "uncomment-global-reindented" {
					indent = "    " // at the indentation of the tools above
				}
				lines[j] = indent + strings.TrimPrefix(lines[j], "  # ")
				found = true
			}
		}
		if !found {
			return "", fmt.Errorf("no commented global rate limit")
		}
		return strings.Join(lines, "\n"), nil
	}
	return "", fmt.Errorf("unknown variant %q", variant)
}

func TestInterceptGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(goldenDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []icgEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("empty manifest")
	}
	var nPolicies, nSeqs, nCalls, nTexts, nKnown int
	for _, en := range entries {
		t.Run(en.Name, func(t *testing.T) {
			var g icgGolden
			data, err := os.ReadFile(filepath.Join(goldenDir, en.Name+".json"))
			if err != nil {
				t.Fatalf("no golden file: %v (re-record, see %s/README.md)", err, goldenDir)
			}
			if err := json.Unmarshal(data, &g); err != nil {
				t.Fatal(err)
			}
			if g.Policy != en.Policy || g.Variant != en.Variant || g.InterceptCommit == "" {
				t.Fatalf("golden file records %s variant %q at %q; the manifest says %s variant %q", g.Policy, g.Variant, g.InterceptCommit, en.Policy, en.Variant)
			}
			raw, err := os.ReadFile(filepath.Join(goldenDir, en.Policy))
			if err != nil {
				t.Fatal(err)
			}
			text, err := icgVariant(string(raw), en.Variant)
			if err != nil {
				t.Fatal(err)
			}
			e, err := Load([]byte(text), en.Policy)
			if why, ok := icgKnownLoad[en.Name]; ok {
				if err == nil || !g.Loads {
					t.Fatalf("listed as a known difference (%s), but toolgate's load error is %v and Intercept loads=%v", why, err, g.Loads)
				}
				return
			}
			if !g.Loads {
				if err == nil {
					t.Fatalf("toolgate loads the policy; Intercept refused it: %s", g.LoadError)
				}
				return
			}
			if err != nil {
				t.Fatalf("Intercept loads the policy; toolgate: %v", err)
			}
			if e.Format() != FormatIntercept {
				t.Fatalf("read as %s", e.Format())
			}
			nPolicies++
			for _, useNumber := range []bool{false, true} {
				for _, s := range g.Sequences {
					texts, known := icgReplay(t, en.Name, e, s, useNumber)
					if !useNumber {
						nSeqs++
						nCalls += len(s.Calls)
						nTexts += texts
						nKnown += known
					}
				}
			}
		})
	}
	t.Logf("%d policies loaded by both, %d sequences, %d calls; %d denial texts compared equal; %d known differences",
		nPolicies, nSeqs, nCalls, nTexts, nKnown)
}

// icgReplay plays one sequence with fresh counters, the clock inside one
// window of every size, as the recording did.
func icgReplay(t *testing.T, name string, e *Engine, s icgSequence, useNumber bool) (texts, known int) {
	t.Helper()
	var listed []string
	for _, tool := range s.Offered {
		if e.Listed(tool, nil) {
			listed = append(listed, tool)
		}
	}
	if !slices.Equal(listed, s.Listed) && !(len(listed) == 0 && len(s.Listed) == 0) {
		t.Errorf("%s: listed %v, Intercept %v", s.Name, listed, s.Listed)
	}
	now := time.Date(2026, 3, 4, 10, 20, 10, 0, time.UTC)
	counters := memory.NewCounters(func() time.Time { return now })
	ctx := context.Background()
	for i, c := range s.Calls {
		var compact bytes.Buffer
		if err := json.Compact(&compact, c.Args); err != nil {
			t.Fatal(err)
		}
		var args map[string]any
		d := json.NewDecoder(bytes.NewReader(c.Args))
		if useNumber {
			d.UseNumber()
		}
		if err := d.Decode(&args); err != nil {
			t.Fatal(err)
		}
		o := e.EvaluateState(ctx, &toolgate.Call{Tool: c.Tool, Args: args}, counters)
		dec := o.Decision
		if dec.Allowed() {
			held, cd, err := ReserveCounters(ctx, counters, o.Counters)
			if err != nil {
				t.Fatal(err)
			}
			dec = cd
			if dec.Allowed() && c.UpstreamError {
				if err := ReleaseCounters(ctx, counters, held); err != nil {
					t.Fatal(err)
				}
			}
		}
		if why, ok := icgKnownCall(name, s.Name, c.Note, i); ok {
			if dec.Allowed() == c.Allowed {
				t.Errorf("%s, call %d (%s): listed as a known difference (%s) but toolgate agrees with Intercept", s.Name, i, c.Note, why)
			}
			known++
			continue
		}
		if dec.Allowed() != c.Allowed {
			t.Errorf("%s, call %d %s %s (%s): toolgate allowed=%v %q (rule %s); Intercept allowed=%v %q",
				s.Name, i, c.Tool, compact.String(), c.Note, dec.Allowed(), dec.Reason, dec.Rule, c.Allowed, c.Denial)
			continue
		}
		if c.Allowed {
			continue
		}
		// toolgate says what went wrong after Intercept's "Internal
		// policy error".
		if dec.Reason == c.Denial || (c.Denial == InternalPolicyError && strings.HasPrefix(dec.Reason, InternalPolicyError+": ")) {
			texts++
			continue
		}
		t.Errorf("%s, call %d %s %s (%s): denied with %q, Intercept with %q", s.Name, i, c.Tool, compact.String(), c.Note, dec.Reason, c.Denial)
	}
	return texts, known
}

// For the replay through the real wrap (intercept_wrap_test.go, package
// policy_test).
type (
	ICGEntry    = icgEntry
	ICGGolden   = icgGolden
	ICGSequence = icgSequence
)

var (
	ICGVariant   = icgVariant
	ICGKnownCall = icgKnownCall
	ICGKnownLoad = icgKnownLoad
)

const ICGDir = goldenDir
