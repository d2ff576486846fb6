// Package toolgate holds the domain types shared by every part of the gateway:
// who is calling (Identity), what they call (Call), and what the policy
// decided (Decision). It does no I/O and imports none of its subpackages.
package toolgate

import (
	"encoding/json"
	"time"
)

// Identity is the authenticated caller behind a session. Until grants exist
// every session runs as Anonymous.
type Identity struct {
	// Subject names the caller, e.g. "alice@example.com" or "anonymous".
	Subject string `json:"subject"`
	// Grant is the id of the grant the caller presented ("" when none).
	Grant string `json:"grant,omitempty"`
	// Policy is the name of the policy the grant is bound to.
	Policy string `json:"policy,omitempty"`
	// Labels are free-form attributes usable in conditions.
	Labels map[string]string `json:"labels,omitempty"`
}

// Anonymous is the identity of callers when authentication is off.
func Anonymous() *Identity {
	return &Identity{Subject: "anonymous", Grant: "anonymous", Policy: "default"}
}

// Call is one tools/call as the policy sees it.
type Call struct {
	// Tool is the tool name as the agent sees it (after prefixing).
	Tool string
	// Server is the name of the upstream server that provides the tool.
	Server string
	// Categories are the risk categories of the tool ("read", "write",
	// "destructive", "financial"), when known.
	Categories []string
	// Args are the decoded call arguments (nil when none were sent).
	Args map[string]any
	// RawArgs are the arguments exactly as the agent sent them.
	RawArgs json.RawMessage
	// Identity is the caller; never nil once authenticated.
	Identity *Identity
	// Session is the gateway's session id for the caller.
	Session string
	// Continues is set on the retry of a call that asked the client for
	// input (protocol 2026-07-28): the id of the first call's decision.
	// The first call reserved the rate-limit quota and the counters; the
	// retry is judged like any call but reserves neither again.
	Continues string
}

// Action is what a decision tells the gateway to do with a call.
type Action string

// The actions a decision can carry.
const (
	Allow   Action = "allow"
	Deny    Action = "deny"
	Approve Action = "approve"
)

// Kind names the check that decided a call. The enforcement pipeline runs
// the checks in the order listed here; the first that refuses decides.
type Kind string

// The decision kinds, in the order the pipeline checks them.
const (
	// KindNoPolicy: no policy is loaded for the caller; every call is denied.
	KindNoPolicy Kind = "no_policy"
	// KindHidden: the tool is in the policy's hide list.
	KindHidden Kind = "hidden"
	// KindDefault: no rule names the tool, and the policy's default decided.
	KindDefault Kind = "default"
	// KindRule: a rule decided (its action, require, deny_if or when).
	KindRule Kind = "rule"
	// KindArgs: the rule's args schema refused the arguments.
	KindArgs Kind = "args"
	// KindInputSchema: the upstream's own inputSchema refused the
	// arguments, or an argument differs only in case from a parameter.
	KindInputSchema Kind = "input_schema"
	// KindPin: the tool differs from its pinned definition, or was never
	// pinned, under pinned: true.
	KindPin Kind = "pin"
	// KindPoisoned: the tool's text carries instructions to the model
	// (tool poisoning), and the configuration's poisoned setting is hide
	// or deny.
	KindPoisoned Kind = "poisoned"
	// KindLimit: a rate limit refused the call (or, on allow, the limits
	// reserved quota for it).
	KindLimit Kind = "limit"
	// KindApproval: a human approved or refused the call, or nobody did in
	// time.
	KindApproval Kind = "approval"

	// KindShadowDenied is not a check: a check in shadow mode (the policy
	// document's or the rule's "mode": "shadow") would have refused the
	// call, and the call was forwarded anyway. The decision's Action is
	// Allow; Rule and Reason are the would-be refusal's, and ShadowKind
	// names the check that would have refused.
	KindShadowDenied Kind = "shadow_denied"
)

// Decision is the outcome of checking a Call against a policy.
type Decision struct {
	Action Action `json:"action"`
	// Rule is a JSON Pointer into the policy document naming the rule that
	// fired, or one of "(default deny)", "(default allow)", "(hidden)",
	// "(no policy)", "(input schema)".
	Rule string `json:"rule"`
	// Kind says which check of the enforcement pipeline decided.
	Kind Kind `json:"kind"`
	// Reason is the human-readable explanation the agent sees.
	Reason string `json:"reason,omitempty"`
	// RetryAfter is set when a rate limit refused the call.
	RetryAfter time.Duration `json:"-"`
	// ApprovalID names the human approval the call went through, if any.
	ApprovalID string `json:"approval_id,omitempty"`
	// ShadowKind is set on a decision of kind KindShadowDenied: the kind
	// of the check that would have refused the call.
	ShadowKind Kind `json:"shadow_kind,omitempty"`
	// ApprovalPending is set on a refusal whose approval (ApprovalID)
	// still waits for a human: the call stopped waiting, and calling again
	// with the same arguments once it is approved goes through.
	ApprovalPending bool `json:"approval_pending,omitempty"`
}

// Allowed reports whether the call may proceed.
func (d Decision) Allowed() bool { return d.Action == Allow }
