package audit

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// payloadStd is the payload as encoding/json makes it: the definition
// appendPayload must match byte for byte (the chain's hashes cover it).
func payloadStd(e *Event) ([]byte, error) {
	c := *e
	c.Seq, c.PrevHash, c.Hash = 0, "", ""
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func checkPayload(t *testing.T, e *Event) {
	t.Helper()
	want, werr := payloadStd(e)
	got, gerr := appendPayload(nil, e)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("encoding/json error %v, appendPayload error %v", werr, gerr)
	}
	if werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("payloads differ:\n got %s\nwant %s", got, want)
	}
}

// everyField is an event with every field set, by reflection, so that a
// field added to Event and forgotten by appendPayload fails the test.
func everyField(t *testing.T) *Event {
	t.Helper()
	e := &Event{}
	v := reflect.ValueOf(e).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch {
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(time.Date(2026, 12, 2, 15, 4, 5, 6, time.UTC)))
		case f.Type() == reflect.TypeFor[json.RawMessage]():
			f.Set(reflect.ValueOf(json.RawMessage(`{"k": [1, "<v>"]}`)))
		case f.Kind() == reflect.String:
			f.SetString(name + " <&> \u00e9")
		case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
			f.SetInt(int64(i + 1))
		case f.Kind() == reflect.Uint64:
			f.SetUint(uint64(i + 1))
		case f.Kind() == reflect.Map:
			f.Set(reflect.ValueOf(map[string]string{name: "x", "a": "y"}))
		default:
			t.Fatalf("Event.%s has a type (%s) this test does not fill: teach it, and appendPayload", name, f.Type())
		}
	}
	return e
}

func TestPayloadEncoding(t *testing.T) {
	full := &Event{Version: 1, ID: "0190abcdef01", Time: time.Date(2026, 12, 2, 15, 4, 5, 123456789, time.UTC),
		Kind: KindDecision, Instance: "gw", Ref: "r", RequestID: `"abc"`, Session: "s-1", Grant: "g",
		Labels: map[string]string{"b": "2", "a": "<1>", "é": "\u2028"}, Subject: "alice", Server: "clerk",
		Method: "tools/call", Tool: "UpdateUser", Resource: "file:///x", Prompt: "p", Policy: "default",
		PolicyVersion: "abc", Decision: "denied", DecisionKind: "args", ShadowKind: "rate_limited",
		Rule: "/tools/UpdateUser/args/password", Reason: "password \"must\" not\tbe <set> & \\ \x01 \xff",
		ApprovalID: "ap", ArgsMode: ArgsRedacted, Args: json.RawMessage(" {\"a\" : [1, 2.50, \"<x>\"] } "),
		Outcome: OutcomeOK, Error: "e", GatewayMicros: -5, UpstreamMicros: 7, ResultBytes: 1 << 40,
		Action: "policy.loaded", Actor: "root", Target: "t", Detail: "d", Seq: 9, PrevHash: "x", Hash: "y"}
	cases := map[string]*Event{
		"empty":       {},
		"full":        full,
		"every field": everyField(t),
		"zero time":   {Kind: KindOutcome, Time: time.Time{}},
		"local time":  {Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))},
		"year 10000":  {Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"bad args":    {Args: json.RawMessage(`{"a":`)},
		"null args":   {Args: json.RawMessage(`null`)},
		"long reason": {Reason: strings.Repeat("ü\u2029\x7f", 1000)},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) { checkPayload(t, e) })
	}
}

func FuzzPayloadEncoding(f *testing.F) {
	f.Add("s-1", "UpdateUser", "password must not be set", "alice", "k", "v", []byte(`{"a":1}`), int64(1764687845123456789), int64(42))
	f.Add("\xff\x00", "\u2028<>&", "\"\\", "", "", "", []byte(` [ 1 , "x" ] `), int64(0), int64(-1))
	f.Add("", "", "", "", "\t", "\u00e9", []byte(`{"a":`), int64(-62135596800000000), int64(1<<62))
	f.Fuzz(func(t *testing.T, session, tool, reason, subject, labelKey, labelValue string, args []byte, nanos, n int64) {
		e := &Event{Version: 1, ID: tool + session, Time: time.Unix(0, nanos).UTC(), Kind: Kind(reason),
			Session: session, Tool: tool, Reason: reason, Subject: subject, Detail: labelValue,
			Labels: map[string]string{labelKey: labelValue, labelValue: labelKey}, Args: args,
			GatewayMicros: n, ResultBytes: -n}
		checkPayload(t, e)
	})
}

func BenchmarkPayloadEncoding(b *testing.B) {
	e := &Event{Version: 1, ID: NewID(time.Now()), Time: time.Now().UTC(), Kind: KindDecision, Instance: "gw-1",
		RequestID: "17", Session: "s-abcdef12", Grant: "g_0123456789", Labels: map[string]string{"team": "growth", "env": "prod"},
		Subject: "alice@example.com", Server: "clerk", Method: "tools/call", Tool: "clerk_UpdateUser", Policy: "default",
		PolicyVersion: "3f9a0c1b2d3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccdd", Decision: "allowed",
		DecisionKind: "allowed", Rule: "/tools/clerk_UpdateUser", ArgsMode: ArgsRedacted,
		Args: json.RawMessage(`{"first_name":"Ada","password":"[REDACTED]","user_id":"user_2abc"}`)}
	for _, c := range []struct {
		name string
		enc  func(*Event) ([]byte, error)
	}{{"encoding-json", payloadStd}, {"append", encodePayload}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.enc(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
