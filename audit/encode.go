package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/toolgate/toolgate/internal/canonjson"
)

// appendPayload appends the JSON of e without seq, prev_hash and hash:
// byte for byte what encoding/json (HTML escaping off) makes of the Event
// with those three fields zero, which is what the chain's hashes cover,
// for a quarter of the time and allocations. FuzzPayloadEncoding holds the
// two together.
func appendPayload(b []byte, e *Event) ([]byte, error) {
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, int64(e.Version), 10)
	b = appendField(b, "id", e.ID, false)
	b = append(b, `,"time":"`...)
	var err error
	if b, err = e.Time.AppendText(b); err != nil {
		return nil, fmt.Errorf("json: error calling MarshalJSON for type time.Time: %w", err)
	}
	b = append(b, '"')
	b = appendField(b, "kind", string(e.Kind), false)
	b = appendField(b, "instance", e.Instance, true)
	b = appendField(b, "ref", e.Ref, true)
	b = appendField(b, "continues", e.Continues, true)
	b = appendField(b, "request_id", e.RequestID, true)
	b = appendField(b, "session", e.Session, true)
	b = appendField(b, "grant", e.Grant, true)
	if len(e.Labels) > 0 {
		b = append(b, `,"labels":{`...)
		for i, k := range slices.Sorted(maps.Keys(e.Labels)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, e.Labels[k])
		}
		b = append(b, '}')
	}
	b = appendField(b, "subject", e.Subject, true)
	b = appendField(b, "server", e.Server, true)
	b = appendField(b, "method", e.Method, true)
	b = appendField(b, "tool", e.Tool, true)
	b = appendField(b, "resource", e.Resource, true)
	b = appendField(b, "prompt", e.Prompt, true)
	b = appendField(b, "policy", e.Policy, true)
	b = appendField(b, "policy_version", e.PolicyVersion, true)
	b = appendField(b, "decision", string(e.Decision), true)
	b = appendField(b, "decision_kind", string(e.DecisionKind), true)
	b = appendField(b, "shadow_kind", string(e.ShadowKind), true)
	b = appendField(b, "rule", e.Rule, true)
	b = appendField(b, "reason", e.Reason, true)
	b = appendField(b, "approval_id", e.ApprovalID, true)
	b = appendField(b, "args_mode", string(e.ArgsMode), true)
	if len(e.Args) > 0 {
		b = append(b, `,"args":`...)
		// What encoding/json does with a RawMessage: validate, compact.
		buf := bytes.NewBuffer(b)
		if err := json.Compact(buf, e.Args); err != nil {
			return nil, fmt.Errorf("json: error calling MarshalJSON for type json.RawMessage: %w", err)
		}
		b = buf.Bytes()
	}
	b = appendField(b, "outcome", string(e.Outcome), true)
	b = appendField(b, "error", e.Error, true)
	b = appendInt(b, "gateway_us", e.GatewayMicros)
	b = appendInt(b, "upstream_us", e.UpstreamMicros)
	b = appendInt(b, "result_bytes", e.ResultBytes)
	b = appendField(b, "action", e.Action, true)
	b = appendField(b, "actor", e.Actor, true)
	b = appendField(b, "target", e.Target, true)
	b = appendField(b, "detail", e.Detail, true)
	return append(b, '}'), nil
}

// appendField appends `,"name":"value"`, or nothing when omitEmpty and
// value is empty.
func appendField(b []byte, name, value string, omitEmpty bool) []byte {
	if omitEmpty && value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendInt appends `,"name":n` unless n is 0.
func appendInt(b []byte, name string, n int64) []byte {
	if n == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, n, 10)
}

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it with HTML escaping off.
func appendString(b []byte, s string) []byte { return canonjson.AppendGoString(b, s) }
