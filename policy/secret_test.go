package policy

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"github.com/toolgate/toolgate"
)

// The values tests send as arguments. None of them may appear in a refusal
// reason or an ArgError: they stand for passwords, tokens and card numbers.
const (
	secretText = "hunter2-SECRET"
	secretNum  = 987654321.0
)

// secretForms are the renderings of the secrets a leaky message would carry.
var secretForms = []string{"hunter2", "SECRET", "987654321", "9.87654321e+08", "9.87654321e8"}

func assertNoSecret(t *testing.T, what, text string, extra ...string) {
	t.Helper()
	for _, s := range append(append([]string(nil), secretForms...), extra...) {
		if strings.Contains(text, s) {
			t.Errorf("%s %q contains the argument value %q", what, text, s)
		}
	}
}

func TestArgReasonsHideValues(t *testing.T) {
	nested := map[string]any{"token": secretText, "pin": secretNum}
	tests := []struct {
		name   string
		schema string
		args   map[string]any
		path   string
		msg    string   // the message must contain this (from the schema)
		extra  []string // further texts that must not appear, e.g. the value's length
	}{
		{"const string", `{"properties":{"pw":{"const":"expected"}}}`,
			map[string]any{"pw": secretText}, "/pw", "value must be 'expected'", nil},
		{"const number", `{"properties":{"pin":{"const":1234}}}`,
			map[string]any{"pin": secretNum}, "/pin", "value must be 1234", nil},
		{"const bool, nested object sent", `{"properties":{"skip":{"const":false}}}`,
			map[string]any{"skip": nested}, "/skip", "value must be false", nil},
		{"const object", `{"properties":{"o":{"const":{"a":1}}}}`,
			map[string]any{"o": nested}, "/o", "const", nil},
		{"enum strings", `{"properties":{"mode":{"enum":["read","write"]}}}`,
			map[string]any{"mode": secretText}, "/mode", "value must be one of 'read', 'write'", nil},
		{"enum numbers", `{"properties":{"n":{"enum":[1,2,3]}}}`,
			map[string]any{"n": secretNum}, "/n", "value must be one of 1, 2, 3", nil},
		{"enum with an object", `{"properties":{"n":{"enum":[1,{"a":2}]}}}`,
			map[string]any{"n": nested}, "/n", "enum", nil},
		{"pattern", `{"properties":{"user":{"pattern":"^user_[0-9]+$"}}}`,
			map[string]any{"user": secretText}, "/user", "does not match pattern '^user_[0-9]+$'", nil},
		{"pattern in an array item", `{"properties":{"tags":{"items":{"pattern":"^[a-z]+$"}}}}`,
			map[string]any{"tags": []any{"ok", secretText}}, "/tags/1", "pattern", nil},
		{"type: number for string", `{"properties":{"name":{"type":"string"}}}`,
			map[string]any{"name": secretNum}, "/name", "got number, want string", nil},
		{"type: string for integer", `{"properties":{"n":{"type":"integer"}}}`,
			map[string]any{"n": secretText}, "/n", "got string, want integer", nil},
		{"type: object for string", `{"properties":{"name":{"type":["string","null"]}}}`,
			map[string]any{"name": nested}, "/name", "got object, want null or string", nil},
		{"minLength", `{"properties":{"pw":{"minLength":20}}}`,
			map[string]any{"pw": secretText}, "/pw", "at least 20 characters", []string{"14"}},
		{"maxLength", `{"properties":{"pw":{"maxLength":4}}}`,
			map[string]any{"pw": secretText}, "/pw", "at most 4 characters", []string{"14"}},
		{"maxLength nested", `{"properties":{"creds":{"properties":{"password":{"maxLength":3}}}}}`,
			map[string]any{"creds": map[string]any{"password": secretText}}, "/creds/password", "at most 3 characters", []string{"14"}},
		{"minimum", `{"properties":{"amount":{"minimum":1000000000}}}`,
			map[string]any{"amount": secretNum}, "/amount", "value must be >= 1000000000", nil},
		{"maximum", `{"properties":{"amount":{"maximum":100.5}}}`,
			map[string]any{"amount": secretNum}, "/amount", "value must be <= 100.5", nil},
		{"exclusiveMinimum", `{"properties":{"amount":{"exclusiveMinimum":1000000000}}}`,
			map[string]any{"amount": secretNum}, "/amount", "value must be > 1000000000", nil},
		{"exclusiveMaximum", `{"properties":{"amount":{"exclusiveMaximum":10}}}`,
			map[string]any{"amount": secretNum}, "/amount", "value must be < 10", nil},
		{"multipleOf", `{"properties":{"amount":{"multipleOf":2}}}`,
			map[string]any{"amount": secretNum}, "/amount", "multiple of 2", nil},
		{"required", `{"required":["reason"]}`,
			map[string]any{"password": secretText}, "", "missing property 'reason'", nil},
		{"additionalProperties false", `{"properties":{"a":{}},"additionalProperties":false}`,
			map[string]any{"a": 1, "extra": secretText}, "", "additional properties 'extra' not allowed", nil},
		{"additionalProperties schema", `{"additionalProperties":{"type":"integer"}}`,
			map[string]any{"x": secretText}, "/x", "got string, want integer", nil},
		{"propertyNames", `{"propertyNames":{"maxLength":3}}`,
			map[string]any{"long": secretText}, "", "property name 'long'", nil},
		{"dependentRequired", `{"dependentRequired":{"password":["confirm"]}}`,
			map[string]any{"password": secretText}, "", "'confirm'", nil},
		{"minItems", `{"properties":{"l":{"minItems":3}}}`,
			map[string]any{"l": []any{secretText}}, "/l", "at least 3 items", nil},
		{"maxItems", `{"properties":{"l":{"maxItems":1}}}`,
			map[string]any{"l": []any{secretText, secretNum}}, "/l", "at most 1 items", nil},
		{"minProperties", `{"properties":{"o":{"minProperties":3}}}`,
			map[string]any{"o": nested}, "/o", "at least 3 properties", nil},
		{"maxProperties", `{"properties":{"o":{"maxProperties":1}}}`,
			map[string]any{"o": nested}, "/o", "at most 1 properties", nil},
		{"uniqueItems", `{"properties":{"l":{"uniqueItems":true}}}`,
			map[string]any{"l": []any{secretText, secretText}}, "/l", "unique", nil},
		{"not", `{"properties":{"pw":{"not":{"type":"string"}}}}`,
			map[string]any{"pw": secretText}, "/pw", "not", nil},
		{"anyOf", `{"properties":{"pw":{"anyOf":[{"type":"integer"},{"pattern":"^x"}]}}}`,
			map[string]any{"pw": secretText}, "/pw", "", nil},
		{"false schema", `{"properties":{"pw":false}}`,
			map[string]any{"pw": secretText}, "/pw", "not allowed", nil},
		{"format email (draft-07 asserts formats)", `{"$schema":"http://json-schema.org/draft-07/schema#","properties":{"email":{"format":"email"}}}`,
			map[string]any{"email": secretText}, "/email", "not a valid email", nil},
		{"format date-time", `{"$schema":"http://json-schema.org/draft-07/schema#","properties":{"at":{"format":"date-time"}}}`,
			map[string]any{"at": secretText}, "/at", "not a valid date-time", nil},
		{"format ipv4", `{"$schema":"http://json-schema.org/draft-07/schema#","properties":{"ip":{"format":"ipv4"}}}`,
			map[string]any{"ip": "987654321.1.1.1"}, "/ip", "not a valid ipv4", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The schema on its own, as the gateway uses an upstream's inputSchema.
			s, err := CompileSchema(json.RawMessage(tt.schema))
			if err != nil {
				t.Fatalf("CompileSchema: %v", err)
			}
			ae := s.Validate(tt.args)
			if ae == nil {
				t.Fatal("arguments accepted; the case must fail the schema")
			}
			if ae.Path != tt.path {
				t.Errorf("path %q, want %q", ae.Path, tt.path)
			}
			if !strings.Contains(ae.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", ae.Message, tt.msg)
			}
			assertNoSecret(t, "ArgError message", ae.Message, tt.extra...)
			assertNoSecret(t, "ArgError", ae.Error(), tt.extra...)

			// The same schema as a rule's args: the decision's reason.
			e := mustLoad(t, `{"version":"1","default":"deny","tools":{"t":{"args":`+tt.schema+`}}}`)
			d, _ := e.Decide(&toolgate.Call{Tool: "t", Args: tt.args})
			if d.Action != toolgate.Deny || d.Kind != KindArgs {
				t.Fatalf("decision %+v, want an args denial", d)
			}
			if d.Reason != ae.Error() {
				t.Errorf("reason %q, want %q", d.Reason, ae.Error())
			}
			assertNoSecret(t, "reason", d.Reason, tt.extra...)
			assertNoSecret(t, "rule", d.Rule, tt.extra...)
		})
	}
}

// TestArgMessageKinds renders every error kind with the caller's value in
// every field that can hold it, including kinds a test schema cannot easily
// trigger.
func TestArgMessageKinds(t *testing.T) {
	leak := errors.New("'" + secretText + "' is not valid")
	num := new(big.Rat).SetFloat64(secretNum)
	want := big.NewRat(10, 1)
	tests := []struct {
		kind jsonschema.ErrorKind
		msg  string
	}{
		{&kind.Type{Got: "string", Want: []string{"integer"}}, "got string, want integer"},
		{&kind.Const{Got: secretText, Want: "x"}, "value must be 'x'"},
		{&kind.Const{Got: secretText, Want: nil}, "value must be null"},
		{&kind.Enum{Got: secretText, Want: []any{"a"}}, "value must be 'a'"},
		{&kind.Enum{Got: secretNum, Want: []any{true, false}}, "value must be one of true, false"},
		{&kind.Pattern{Got: secretText, Want: "^a$"}, "pattern '^a$'"},
		{&kind.Format{Got: secretText, Want: "uri", Err: leak}, "not a valid uri"},
		{&kind.MinLength{Got: 14, Want: 20}, "at least 20"},
		{&kind.MaxLength{Got: 14, Want: 2}, "at most 2"},
		{&kind.Minimum{Got: num, Want: want}, ">= 10"},
		{&kind.Maximum{Got: num, Want: want}, "<= 10"},
		{&kind.ExclusiveMinimum{Got: num, Want: want}, "> 10"},
		{&kind.ExclusiveMaximum{Got: num, Want: want}, "< 10"},
		{&kind.MultipleOf{Got: num, Want: big.NewRat(1, 4)}, "multiple of 0.25"},
		{&kind.MinContains{Got: []int{1}, Want: 2}, "at least 2"},
		{&kind.MaxContains{Got: []int{0, 1}, Want: 1}, "at most 1"},
		{&kind.ContentEncoding{Want: "base64", Err: leak}, "base64"},
		{&kind.ContentMediaType{Got: []byte(secretText), Want: "application/json", Err: leak}, "application/json"},
		{&kind.InvalidJsonValue{Value: secretText}, "does not match the schema"},
		{&kind.Reference{Keyword: "$ref", URL: "toolgate:///schema.json#/$defs/x"}, "$ref"},
		{&kind.OneOf{Subschemas: []int{0, 1}}, "more than one"},
		{&kind.OneOf{}, "none"},
	}
	for _, tt := range tests {
		got := argMessage(tt.kind)
		if !strings.Contains(got, tt.msg) {
			t.Errorf("%T: %q does not contain %q", tt.kind, got, tt.msg)
		}
		assertNoSecret(t, "message", got, "14")
	}
}

// TestPredicateReasonsHideValues runs secret values through every predicate
// operator, as a require that fails and as a deny_if that holds.
func TestPredicateReasonsHideValues(t *testing.T) {
	// Every call carries the secrets; the predicates that must equal a
	// value compare args.mode, whose value the policy itself names.
	args := map[string]any{
		"pw":    secretText,
		"pin":   secretNum,
		"mode":  "debug",
		"l":     []any{secretText, 1.0},
		"creds": map[string]any{"token": secretText},
	}
	tests := []struct {
		op      string
		require string // a predicate the args fail
		denyIf  string // a predicate the args meet
	}{
		{"present", `"args.reason"`, `"args.pw"`},
		{"absent", `{"path":"args.pw","op":"absent"}`, `{"path":"args.reason","op":"absent"}`},
		{"eq", `"args.pw == \"expected\""`, `{"path":"args.mode","op":"eq","value":"debug"}`},
		{"ne", `{"path":"args.mode","op":"ne","value":"debug"}`, `"args.pw != \"expected\""`},
		{"gt", `"args.pin > 999999999"`, `"args.pin > 10"`},
		{"gte", `"args.pin >= 999999999"`, `"args.pin >= 10"`},
		{"lt", `"args.pin < 10"`, `"args.pin < 999999999"`},
		{"lte", `"args.pw <= \"a\""`, `"args.pw <= \"z\""`},
		{"in", `{"path":"args.pw","op":"in","value":["a","b"]}`, `{"path":"args.mode","op":"in","value":["debug","trace"]}`},
		{"not_in", `{"path":"args.mode","op":"not_in","value":["debug"]}`, `{"path":"args.pw","op":"not_in","value":["a"]}`},
		{"contains string", `{"path":"args.pw","op":"contains","value":"zz"}`, `{"path":"args.pw","op":"contains","value":"-"}`},
		{"contains list", `{"path":"args.l","op":"contains","value":"zz"}`, `{"path":"args.l","op":"contains","value":1}`},
		{"starts_with", `{"path":"args.pw","op":"starts_with","value":"user_"}`, `{"path":"args.pw","op":"starts_with","value":"h"}`},
		{"ends_with", `{"path":"args.pw","op":"ends_with","value":"@x.com"}`, `{"path":"args.pw","op":"ends_with","value":"T"}`},
		{"matches", `{"path":"args.pw","op":"matches","value":"^user_[0-9]+$"}`, `{"path":"args.pw","op":"matches","value":"^h"}`},
		{"nested path", `{"path":"args.creds.token","op":"eq","value":"x"}`, `"args.creds.token"`},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			for _, c := range []struct{ key, pred, ptr string }{
				{"require", tt.require, "/tools/t/require/0"},
				{"deny_if", tt.denyIf, "/tools/t/deny_if/0"},
			} {
				e := mustLoad(t, `{"version":"1","default":"deny","tools":{"t":{"`+c.key+`":[`+c.pred+`]}}}`)
				d, _ := e.Decide(&toolgate.Call{Tool: "t", Args: args})
				if d.Action != toolgate.Deny || d.Rule != c.ptr {
					t.Fatalf("%s %s: decision %+v, want a denial by %s", c.key, c.pred, d, c.ptr)
				}
				if !strings.Contains(d.Reason, "args.") {
					t.Errorf("%s: reason %q does not name the argument", c.key, d.Reason)
				}
				assertNoSecret(t, c.key+" reason", d.Reason)
			}
		})
	}
}
