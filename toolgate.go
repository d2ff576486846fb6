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
}

// Action is what a decision tells the gateway to do with a call.
type Action string

// The actions a decision can carry.
const (
	Allow   Action = "allow"
	Deny    Action = "deny"
	Approve Action = "approve"
)

// Decision is the outcome of checking a Call against a policy.
type Decision struct {
	Action Action `json:"action"`
	// Rule is a JSON Pointer into the policy document naming the rule that
	// fired, or one of "(default deny)", "(default allow)", "(hidden)",
	// "(no policy)", "(input schema)".
	Rule string `json:"rule"`
	// Kind says what sort of check decided: "rule", "default", "hidden",
	// "no_policy", "args", "pin", "input_schema", "approval", "limit".
	Kind string `json:"kind"`
	// Reason is the human-readable explanation the agent sees.
	Reason string `json:"reason,omitempty"`
	// RetryAfter is set when a rate limit refused the call.
	RetryAfter time.Duration `json:"-"`
	// ApprovalID names the human approval the call went through, if any.
	ApprovalID string `json:"approval_id,omitempty"`
}

// Allowed reports whether the call may proceed.
func (d Decision) Allowed() bool { return d.Action == Allow }
