// Package audit is toolgate's audit log: one versioned event for every
// tools/call the enforcement pipeline decides or refuses before it, and
// for every resources/read and prompts/get, one for what the upstream
// then did with it, and one for every administrative change, all in one
// tamper-evident hash chain.
//
// A Log assigns each event its place in the chain (seq, prev_hash, hash)
// in the order it is appended, and writes it to its sinks: the first sink
// is the primary, and Append returns only once the event is committed
// there. Concurrent appends are written together, one transaction per
// batch (group commit), by a single writer goroutine.
//
// docs/audit.md documents the schema (version 1), the chain and the sinks.
package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/internal/canonjson"
	"github.com/toolgate/toolgate/redact"
)

// Version is the schema version of the events this package writes.
const Version = 1

// Kind says what an event records.
type Kind string

// The kinds of event.
const (
	// KindDecision: what the enforcement pipeline decided about a call.
	// It is committed before an allowed call is forwarded.
	KindDecision Kind = "decision"
	// KindOutcome: what became of an allowed call (Ref names its
	// decision event). Refused calls have no outcome event.
	KindOutcome Kind = "outcome"
	// KindAdmin: an administrative change (policy loaded, approval
	// decided, ...); Action, Actor and Target say which.
	KindAdmin Kind = "admin"
)

// Decision is the decision of a decision event, in one word.
type Decision string

// The decisions, derived from the pipeline's action and kind (see
// DecisionOf).
const (
	Allowed         Decision = "allowed"
	Approved        Decision = "approved" // allowed after a human approved it
	Denied          Decision = "denied"   // by a rule's action, require, deny_if or when, or the default
	Hidden          Decision = "hidden"
	NoPolicy        Decision = "no_policy"
	InvalidArgs     Decision = "invalid_args" // the rule's args schema or the tool's inputSchema
	PinMismatch     Decision = "pin_mismatch"
	Poisoned        Decision = "poisoned" // the tool's text carries instructions to the model
	RateLimited     Decision = "rate_limited"
	ApprovalPending Decision = "approval_pending" // refused for now; the approval still waits for a human
	Rejected        Decision = "rejected"         // a human refused, or nobody answered in time
	ShadowDenied    Decision = "shadow_denied"    // forwarded; a check in shadow mode would have refused it
	// UnknownName: no upstream offers the tool (tools/call) or the prompt
	// (prompts/get) the request names, so it never reached the pipeline.
	UnknownName Decision = "unknown_name"
	// InvalidRequest: the tools/call params could not be read (no name,
	// arguments not an object), so it never reached the pipeline.
	InvalidRequest Decision = "invalid_request"
)

// Decisions lists every Decision, for validating a query.
var Decisions = []Decision{Allowed, Approved, Denied, Hidden, NoPolicy, InvalidArgs, PinMismatch, Poisoned, RateLimited, ApprovalPending, Rejected, ShadowDenied, UnknownName, InvalidRequest}

// DecisionOf names the pipeline's decision d in one word.
func DecisionOf(d toolgate.Decision) Decision {
	if d.Allowed() {
		switch d.Kind {
		case toolgate.KindApproval:
			return Approved
		case toolgate.KindShadowDenied:
			return ShadowDenied
		}
		return Allowed
	}
	switch d.Kind {
	case toolgate.KindHidden:
		return Hidden
	case toolgate.KindNoPolicy:
		return NoPolicy
	case toolgate.KindArgs, toolgate.KindInputSchema:
		return InvalidArgs
	case toolgate.KindPin:
		return PinMismatch
	case toolgate.KindPoisoned:
		return Poisoned
	case toolgate.KindLimit:
		return RateLimited
	case toolgate.KindApproval:
		if d.ApprovalPending {
			return ApprovalPending
		}
		return Rejected
	}
	return Denied
}

// Outcome is what became of a forwarded call.
type Outcome string

// The outcomes.
const (
	// OutcomeOK: the upstream answered with a result.
	OutcomeOK Outcome = "ok"
	// OutcomeToolError: the upstream answered with a result whose isError
	// is true.
	OutcomeToolError Outcome = "tool_error"
	// OutcomeProtocolError: the upstream answered with a JSON-RPC error.
	OutcomeProtocolError Outcome = "protocol_error"
	// OutcomeTimeout: the upstream did not answer in time; the request
	// was cancelled upstream, which may have acted on it.
	OutcomeTimeout Outcome = "timeout"
	// OutcomeCancelled: the client cancelled or went away while the
	// upstream worked.
	OutcomeCancelled Outcome = "cancelled"
	// OutcomeUnavailable: no working upstream took the request.
	OutcomeUnavailable Outcome = "unavailable"
	// OutcomeNotForwarded: the call was allowed but the gateway did not
	// forward it (an internal error).
	OutcomeNotForwarded Outcome = "not_forwarded"
)

// Event is one entry of the audit log, schema version 1. Fields that do
// not apply to an event's kind are left out of its JSON. The JSON field
// order is the order below; seq and prev_hash come last but one, hash last.
type Event struct {
	// Version is the schema version, 1.
	Version int `json:"version"`
	// ID names the event (32 hex digits; the first 12 are the time in
	// milliseconds, so ids sort roughly by time).
	ID string `json:"id"`
	// Time is when the event was made (UTC). Clocks go backwards: seq, not
	// time, orders the log.
	Time time.Time `json:"time"`
	// Kind is decision, outcome or admin.
	Kind Kind `json:"kind"`
	// Instance names the gateway process that wrote the event.
	Instance string `json:"instance,omitempty"`
	// Ref is, on an outcome event, the id of its decision event.
	Ref string `json:"ref,omitempty"`
	// Continues is, on the decision of a call that retries one that asked
	// the client for input (protocol 2026-07-28), the id of the first
	// call's decision event: the retry is the same call, counted once.
	Continues string `json:"continues,omitempty"`

	// RequestID is the JSON-RPC id of the client's request, as JSON.
	RequestID string `json:"request_id,omitempty"`
	// Session is the session's label (s-…), never the session id, which
	// is a credential.
	Session string `json:"session,omitempty"`
	// Grant is the id of the grant the caller presented.
	Grant string `json:"grant,omitempty"`
	// Labels are the grant's labels.
	Labels map[string]string `json:"labels,omitempty"`
	// Subject is who called.
	Subject string `json:"subject,omitempty"`
	// Server is the upstream server of the tool.
	Server string `json:"server,omitempty"`
	// Method is the MCP method: tools/call, resources/read or prompts/get.
	Method string `json:"method,omitempty"`
	// Tool is the tool's name as the agent sees it (tools/call).
	Tool string `json:"tool,omitempty"`
	// Resource is the URI a resources/read reads.
	Resource string `json:"resource,omitempty"`
	// Prompt is the prompt's name as the agent sees it (prompts/get).
	Prompt string `json:"prompt,omitempty"`
	// Policy is the name of the policy that decided.
	Policy string `json:"policy,omitempty"`
	// PolicyVersion is the SHA-256 (hex) of the policy document in force.
	PolicyVersion string `json:"policy_version,omitempty"`

	// Decision is the decision in one word; DecisionKind the pipeline's
	// typed kind (toolgate.Kind) of the check that decided.
	Decision     Decision      `json:"decision,omitempty"`
	DecisionKind toolgate.Kind `json:"decision_kind,omitempty"`
	// ShadowKind names the check that would have refused a shadow_denied
	// call.
	ShadowKind toolgate.Kind `json:"shadow_kind,omitempty"`
	// Rule is the rule that fired as a JSON Pointer into the policy, or
	// one of "(default deny)", "(default allow)", "(hidden)", "(no
	// policy)", "(input schema)", "(pinned)".
	Rule string `json:"rule,omitempty"`
	// Reason is the explanation the agent was shown.
	Reason string `json:"reason,omitempty"`
	// ApprovalID names the human approval the call went through.
	ApprovalID string `json:"approval_id,omitempty"`
	// ArgsMode says how Args were recorded: keys, redacted or full.
	ArgsMode ArgsMode `json:"args_mode,omitempty"`
	// Args are the call's arguments as ArgsMode records them.
	Args json.RawMessage `json:"args,omitempty"`

	// Outcome is what became of the call (outcome events).
	Outcome Outcome `json:"outcome,omitempty"`
	// Error is the error the client was given, if any (outcome events).
	Error string `json:"error,omitempty"`
	// GatewayMicros is the time the gateway added before forwarding
	// (deciding and recording the decision), in microseconds.
	GatewayMicros int64 `json:"gateway_us,omitempty"`
	// UpstreamMicros is the time the upstream took, in microseconds.
	UpstreamMicros int64 `json:"upstream_us,omitempty"`
	// ResultBytes is the size of the upstream's result.
	ResultBytes int64 `json:"result_bytes,omitempty"`

	// Action is what an admin event records, e.g. "policy.loaded".
	Action string `json:"action,omitempty"`
	// Actor is who did it: an admin token's subject, or "toolgate".
	Actor string `json:"actor,omitempty"`
	// Target is what it was done to: a policy, grant or approval.
	Target string `json:"target,omitempty"`
	// Detail says more, e.g. the policy's digest or why it was refused.
	Detail string `json:"detail,omitempty"`

	// Seq is the event's position in the chain, from 1, without gaps.
	Seq uint64 `json:"seq,omitempty"`
	// PrevHash is the hash of the event before (64 zeros for seq 1).
	PrevHash string `json:"prev_hash,omitempty"`
	// Hash is SHA-256 over PrevHash and the event's body (see Seal).
	Hash string `json:"hash,omitempty"`
}

// The admin actions this package names. Others may be used.
const (
	ActionPolicyLoaded      = "policy.loaded"
	ActionPolicyRefused     = "policy.refused"
	ActionApprovalDecided   = "approval.decided"
	ActionApprovalRequested = "approval.requested"
	ActionApprovalExpired   = "approval.expired"
	ActionGrantCreated      = "grant.created"
	ActionGrantRevoked      = "grant.revoked"
	ActionGrantRotated      = "grant.rotated"
	ActionGrantPolicy       = "grant.policy_changed"
	ActionAdminTokenCreate  = "admin_token.created"
	ActionAdminTokenRevoked = "admin_token.revoked"
	ActionPinAccepted       = "pin.accepted"
)

// Admin returns an admin event: actor did action to target.
func Admin(action, actor, target, detail string) *Event {
	return &Event{Kind: KindAdmin, Action: action, Actor: actor, Target: target, Detail: detail}
}

// NewID returns a fresh event id: 12 hex digits of the time in
// milliseconds, then 20 random ones.
func NewID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	// Ids need to be unique, not secret (nothing grants access by one):
	// math/rand/v2's generator (ChaCha8, seeded by the system) costs no
	// system call, where crypto/rand's sometimes does.
	binary.LittleEndian.PutUint64(b[6:], rand.Uint64())
	binary.LittleEndian.PutUint16(b[14:], uint16(rand.Uint32()))
	return hex.EncodeToString(b[:])
}

// ArgsMode says how a call's arguments are recorded.
type ArgsMode string

// The argument modes.
const (
	// ArgsKeys records the sorted top-level argument names only.
	ArgsKeys ArgsMode = "keys"
	// ArgsRedacted records the arguments with the value of every
	// secret-looking key, at any depth, replaced by "[REDACTED]".
	ArgsRedacted ArgsMode = "redacted"
	// ArgsFull records the arguments exactly as received.
	ArgsFull ArgsMode = "full"
)

// DefaultArgsMode is the mode when none is configured.
const DefaultArgsMode = ArgsRedacted

// ParseArgsMode reads an args mode; "" is the default.
func ParseArgsMode(s string) (ArgsMode, error) {
	switch m := ArgsMode(s); m {
	case "":
		return DefaultArgsMode, nil
	case ArgsKeys, ArgsRedacted, ArgsFull:
		return m, nil
	}
	return "", fmt.Errorf("audit: unknown args mode %q (want keys, redacted or full)", s)
}

// Args renders a call's arguments as mode records them: args are the
// decoded arguments, raw the arguments exactly as received (used by
// ArgsFull only; nil falls back to encoding args). ArgsRedacted masks
// with r: the default rules plus the matching rule's `redact` pointers
// (nil for the default rules only).
func Args(mode ArgsMode, args map[string]any, raw json.RawMessage, r *redact.Redactor) json.RawMessage {
	switch mode {
	case ArgsKeys:
		keys := make([]string, 0, len(args))
		for k := range args {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b, _ := json.Marshal(keys)
		return b
	case ArgsFull:
		if len(raw) > 0 {
			// Canonical (no whitespace, one escaping), so that the body
			// the hash covers has one form; the gateway accepted it, so
			// it is valid JSON.
			if b, err := canonjson.Append(nil, raw, MaxArgsDepth); err == nil {
				return b
			}
			if args == nil {
				// Not recorded as no arguments: say they could not be.
				return json.RawMessage(redact.Unencodable)
			}
		}
		if args == nil {
			return json.RawMessage("{}")
		}
		b, err := json.Marshal(args)
		if err != nil {
			return json.RawMessage(`{"error":"[UNENCODABLE]"}`)
		}
		return b
	}
	return r.Args(args)
}

// zeroHash is the prev_hash of the first event.
const zeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// hashSuffixLen is the length of `,"hash":"<64 hex>"}`, the end of a
// sealed event's line.
const hashSuffixLen = len(`,"hash":""}`) + 64

// MaxArgsDepth bounds the nesting of an event's Args. An event that
// encoding/json could not read back (it refuses more than 10,000 levels)
// would be in the chain but unreadable to Get, Query and Verify, so the
// log refuses it (Append fails, and the gateway refuses the call) rather
// than record it. ArgsRedacted masks below redact.MaxDepth, far less; the
// gateway's requests nest at most 64 levels by default.
const MaxArgsDepth = 1000

// errTooDeep is the error of an event whose Args nest deeper than
// MaxArgsDepth.
var errTooDeep = fmt.Errorf("the arguments nest deeper than %d levels, more than an event may hold and still be read back", MaxArgsDepth)

// nestsAtMost reports whether the JSON b nests at most max arrays and
// objects: one pass over the bytes, strings skipped.
func nestsAtMost(b []byte, max int) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}

// encodePayload is the JSON of e without seq, prev_hash and hash, the
// part of the body an appender can encode before the event has a place in
// the chain.
func encodePayload(e *Event) ([]byte, error) {
	if !nestsAtMost(e.Args, MaxArgsDepth) {
		return nil, fmt.Errorf("audit: encoding event: %w", errTooDeep)
	}
	b, err := appendPayload(make([]byte, 0, 1024+len(e.Args)), e)
	if err != nil {
		return nil, fmt.Errorf("audit: encoding event: %w", err)
	}
	return b, nil
}

// body completes a payload with seq and prev_hash: exactly the JSON of
// the event with its Seq and PrevHash set and no Hash.
func body(payload []byte, seq uint64, prev string) []byte {
	b := make([]byte, 0, len(payload)+len(prev)+48+hashSuffixLen)
	b = append(b, payload[:len(payload)-1]...)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"prev_hash":"`...)
	b = append(b, prev...)
	b = append(b, `"}`...)
	return b
}

// line is a sealed event as one JSON object: body with its hash added.
func line(body []byte, hash string) []byte {
	b := make([]byte, 0, len(body)+hashSuffixLen+1)
	b = append(b, body[:len(body)-1]...)
	b = append(b, `,"hash":"`...)
	b = append(b, hash...)
	b = append(b, `"}`...)
	return b
}

// splitLine is the inverse of line: the body and the hash.
func splitLine(l []byte) ([]byte, string, error) {
	if len(l) < hashSuffixLen+2 || !bytes.HasPrefix(l[len(l)-hashSuffixLen:], []byte(`,"hash":"`)) || !bytes.HasSuffix(l, []byte(`"}`)) {
		return nil, "", errors.New("the line does not end with its hash")
	}
	h := string(l[len(l)-hashSuffixLen+len(`,"hash":"`) : len(l)-2])
	b := make([]byte, 0, len(l)-hashSuffixLen+1)
	b = append(b, l[:len(l)-hashSuffixLen]...)
	b = append(b, '}')
	return b, h, nil
}

// Decode reads an event from its body or its line.
func Decode(b []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("audit: decoding event: %w", err)
	}
	return &e, nil
}
