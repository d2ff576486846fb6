// Package replay decides recorded calls again under a candidate policy,
// through the gateway's own decision code (enforce.Pipeline.Check), and
// reports which decisions would change.
//
// What is replayed and what is not:
//
//   - the identity (subject, grant, labels, the grant's policy name), the
//     tool, the server and the session label come from the event;
//   - the arguments are used as recorded. Under args_mode full they are
//     exact. Under keys (names only) and redacted (masked values) a call
//     is replayed only when the candidate's matching rule reads no
//     argument value (policy.Engine.ReadsArgs), or, under redacted, when
//     nothing was masked; otherwise it is counted as not replayable;
//   - rate limits and the windowed counters of an Intercept-format policy
//     are replayed in seq order, from empty budgets, by a fresh in-memory
//     limiter whose clock is each event's own time. Calls made before the
//     replayed window do not count, and quota is never given back for a
//     call the upstream did not serve;
//   - a call the candidate would put to a human is reported as "approval"
//     (nobody is asked) and keeps its quota, as an approved call would;
//   - the upstream's inputSchema, its parameter names and the tool's pin
//     are not recorded, so they are not checked. A call refused by one of
//     them that the candidate would allow is not replayable;
//   - a tool's risk categories are not recorded: rules and hide entries
//     naming a category match no replayed call.
package replay

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/enforce"
	"github.com/toolgate/toolgate/limit/memory"
	"github.com/toolgate/toolgate/policy"
	"github.com/toolgate/toolgate/redact"
)

// Class is a decision as a replay compares it: whether the call went
// through, was refused, or was (or would be) put to a human.
type Class string

// The classes.
const (
	ClassAllowed  Class = "allowed"  // allowed, or shadow_denied (forwarded)
	ClassDenied   Class = "denied"   // every refusal but an approval's
	ClassApproval Class = "approval" // approved, approval_pending, rejected; or the candidate would ask
)

// ClassOf classifies a recorded decision.
func ClassOf(d audit.Decision) Class {
	switch d {
	case audit.Allowed, audit.ShadowDenied:
		return ClassAllowed
	case audit.Approved, audit.ApprovalPending, audit.Rejected:
		return ClassApproval
	}
	return ClassDenied
}

// Change names a change of class, e.g. "allowed_to_denied".
func Change(from, to Class) string { return string(from) + "_to_" + string(to) }

// The two changes the report counts on their own.
var (
	AllowedToDenied = Change(ClassAllowed, ClassDenied)
	DeniedToAllowed = Change(ClassDenied, ClassAllowed)
)

// Reasons a recorded call is not replayable.
const (
	// NotKeys: only argument names were recorded and the candidate reads
	// argument values.
	NotKeys = "args_keys"
	// NotRedacted: values were masked and the candidate reads argument
	// values.
	NotRedacted = "args_redacted"
	// NotArgs: the recorded arguments are missing or not an object.
	NotArgs = "args_unreadable"
	// NotUpstream: the recorded refusal came from the upstream's
	// inputSchema or the tool's pin, which are not recorded, and the
	// candidate would allow the call.
	NotUpstream = "upstream_state"
)

// ReasonText explains a not-replayable reason in a sentence.
var ReasonText = map[string]string{
	NotKeys:     "args_mode keys recorded only argument names, and the candidate's rule reads argument values",
	NotRedacted: "args_mode redacted masked argument values, and the candidate's rule reads argument values",
	NotArgs:     "the recorded arguments are not a JSON object",
	NotUpstream: "refused by the upstream's inputSchema or the tool's pin, which are not recorded",
}

// Options tune a replay.
type Options struct {
	// Examples is how many examples of each change to keep (0: none).
	Examples int
}

// Report is what a replay found.
type Report struct {
	Policy string `json:"policy"`
	// Read counts the decision events read; Replayed those decided again.
	Read     int `json:"read"`
	Replayed int `json:"replayed"`
	// Unchanged counts replayed events whose class did not change.
	Unchanged       int `json:"unchanged"`
	AllowedToDenied int `json:"allowed_to_denied"`
	DeniedToAllowed int `json:"denied_to_allowed"`
	// Changes counts every change by name, including those to and from
	// approval.
	Changes map[string]int `json:"changes"`
	// NotReplayable counts the events not replayed, by reason.
	NotReplayable map[string]int `json:"not_replayable"`
	// ByTool and ByRule count the changes per tool and per candidate rule
	// (the rule that decided the call under the candidate).
	ByTool []Count `json:"by_tool"`
	ByRule []Count `json:"by_rule"`
	// Examples are up to Options.Examples events of each change, oldest
	// first, and of each not-replayable reason.
	Examples []Example `json:"examples"`
}

// Count is one row of a per-tool or per-rule table.
type Count struct {
	Change string `json:"change"`
	Key    string `json:"key"`
	Count  int    `json:"count"`
}

// Example is one event whose decision would change or that could not be
// replayed.
type Example struct {
	// Change names the change, or "not_replayable:" and the reason.
	Change  string    `json:"change"`
	ID      string    `json:"id"`
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Subject string    `json:"subject"`
	Tool    string    `json:"tool"`
	Old     Decided   `json:"old"`
	New     *Decided  `json:"new,omitempty"`
	// Detail says why an event was not replayable, e.g. which check of
	// the candidate reads argument values.
	Detail string `json:"detail,omitempty"`
}

// Decided is one decision on a call.
type Decided struct {
	Decision audit.Decision `json:"decision"`
	Class    Class          `json:"class"`
	Rule     string         `json:"rule"`
	Reason   string         `json:"reason,omitempty"`
}

// Run decides the tools/call decision events of events (any order; other
// events are skipped, see replayable) under eng, in seq order, and reports what would change.
func Run(ctx context.Context, eng *policy.Engine, events []*audit.Event, opts Options) *Report {
	var calls []*audit.Event
	for _, e := range events {
		if replayable(e) {
			calls = append(calls, e)
		}
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i].Seq < calls[j].Seq })
	r := &Report{Policy: eng.Name(), Read: len(calls), Changes: map[string]int{}, NotReplayable: map[string]int{},
		ByTool: []Count{}, ByRule: []Count{}, Examples: []Example{}}
	clk := &clock{}
	if len(calls) > 0 {
		clk.t = calls[0].Time
	}
	p := &enforce.Pipeline{Limiter: memory.New(&memory.Options{Now: clk.now}), Counters: memory.NewCounters(clk.now),
		Approvals: asker{}}
	byTool, byRule, examples := map[[2]string]int{}, map[[2]string]int{}, map[string]int{}
	keep := func(x Example) {
		if examples[x.Change] < opts.Examples {
			examples[x.Change]++
			r.Examples = append(r.Examples, x)
		}
	}
	for _, e := range calls {
		clk.set(e.Time)
		old := Decided{Decision: e.Decision, Class: ClassOf(e.Decision), Rule: e.Rule, Reason: e.Reason}
		x := Example{ID: e.ID, Seq: e.Seq, Time: e.Time, Subject: e.Subject, Tool: e.Tool, Old: old}
		call, why, detail := rebuild(eng, e)
		if why != "" {
			r.NotReplayable[why]++
			x.Change, x.Detail = "not_replayable:"+why, detail
			keep(x)
			continue
		}
		d := p.Check(ctx, eng, call, nil).Decision
		nd := Decided{Decision: audit.DecisionOf(d), Class: classOfNew(d), Rule: d.Rule, Reason: d.Reason}
		if nd.Class == ClassAllowed && (e.DecisionKind == toolgate.KindInputSchema || e.DecisionKind == toolgate.KindPin) {
			r.NotReplayable[NotUpstream]++
			x.Change, x.New, x.Detail = "not_replayable:"+NotUpstream, &nd, "the recorded refusal was the upstream's ("+string(e.DecisionKind)+")"
			keep(x)
			continue
		}
		r.Replayed++
		if nd.Class == old.Class {
			r.Unchanged++
			continue
		}
		ch := Change(old.Class, nd.Class)
		r.Changes[ch]++
		switch ch {
		case AllowedToDenied:
			r.AllowedToDenied++
		case DeniedToAllowed:
			r.DeniedToAllowed++
		}
		byTool[[2]string{ch, e.Tool}]++
		byRule[[2]string{ch, nd.Rule}]++
		x.Change, x.New = ch, &nd
		keep(x)
	}
	r.ByTool, r.ByRule = counts(byTool), counts(byRule)
	return r
}

// replayable reports whether e is a decision the pipeline made on a
// tools/call: not a resources/read or prompts/get, which no policy
// governs, nor a call refused before the pipeline (a tool no upstream
// offers, unreadable params), which no candidate policy would see.
func replayable(e *audit.Event) bool {
	if e.Kind != audit.KindDecision || e.Method != "" && e.Method != "tools/call" {
		return false
	}
	return e.Decision != audit.UnknownName && e.Decision != audit.InvalidRequest
}

// classOfNew classifies a decision made under the candidate: asker marks
// the calls the candidate would put to a human.
func classOfNew(d toolgate.Decision) Class {
	if d.Kind == toolgate.KindApproval && d.ApprovalID == askedID {
		return ClassApproval
	}
	return ClassOf(audit.DecisionOf(d))
}

// rebuild makes the call an event records, or says why it cannot be
// decided again faithfully.
func rebuild(eng *policy.Engine, e *audit.Event) (call *toolgate.Call, why, detail string) {
	call = &toolgate.Call{Tool: e.Tool, Server: e.Server, Session: e.Session,
		Identity: &toolgate.Identity{Subject: e.Subject, Grant: e.Grant, Policy: e.Policy, Labels: e.Labels}}
	reads := eng.ReadsArgs(e.Tool, nil)
	if len(e.Args) == 0 || string(e.Args) == "null" {
		return call, "", ""
	}
	if e.ArgsMode == audit.ArgsKeys {
		var names []string
		if err := json.Unmarshal(e.Args, &names); err != nil {
			return nil, NotArgs, err.Error()
		}
		if reads != "" {
			return nil, NotKeys, reads + " reads argument values"
		}
		call.Args = make(map[string]any, len(names))
		for _, n := range names {
			call.Args[n] = nil
		}
		return call, "", ""
	}
	if err := json.Unmarshal(e.Args, &call.Args); err != nil {
		return nil, NotArgs, err.Error()
	}
	call.RawArgs = e.Args
	if e.ArgsMode != audit.ArgsFull && reads != "" && masked(call.Args) {
		return nil, NotRedacted, reads + " reads argument values"
	}
	return call, "", ""
}

// masked reports whether any string in v holds the redaction marker.
func masked(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, redact.Marker)
	case map[string]any:
		for _, y := range x {
			if masked(y) {
				return true
			}
		}
	case []any:
		return slices.ContainsFunc(x, masked)
	}
	return false
}

func counts(m map[[2]string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{Change: k[0], Key: k[1], Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Change != b.Change {
			return a.Change < b.Change
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Key < b.Key
	})
	return out
}

// clock is the replay's time: each event's own, never going backwards
// (the log's clocks may).
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func (c *clock) set(t time.Time) {
	if t.After(c.t) {
		c.t = t
	}
}

const askedID = "replay"

// asker stands in for the human: it records that the candidate would ask
// and lets the call through, so that it keeps its quota as an approved
// call would.
type asker struct{}

func (asker) Await(_ context.Context, _ *policy.Engine, _ *toolgate.Call, d toolgate.Decision) toolgate.Decision {
	return toolgate.Decision{Action: toolgate.Allow, Rule: d.Rule, Kind: toolgate.KindApproval, ApprovalID: askedID,
		Reason: "the candidate would ask a human"}
}
