package canonjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestAppend(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // canonical form; empty when refused
		kind Kind
	}{
		{"compact", `{"a":1}`, `{"a":1}`, 0},
		{"whitespace removed", " {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\":null } \n", `{"a":[1,2],"b":null}`, 0},
		{"numbers kept as written", `[0,-0,1.50,1e400,-12E+3,123456789012345678901234567890]`, `[0,-0,1.50,1e400,-12E+3,123456789012345678901234567890]`, 0},
		{"escapes normalised", `"\u0041\/\u00e9\n\u2028\ud83d\ude00"`, `"A/é\n\u2028😀"`, 0},
		{"raw line separators escaped", "\"a\u2028b\u2029c\u0085d\"", `"a\u2028b\u2029c\u0085d"`, 0},
		{"control escaped short", `"\u0008\u000c\u0001"`, `"\b\f\u0001"`, 0},
		{"keys compared decoded", `{"n\u0061me":1,"x":2}`, `{"name":1,"x":2}`, 0},
		{"literals", `[true,false,null]`, `[true,false,null]`, 0},
		{"empty containers", `{"a":{},"b":[]}`, `{"a":{},"b":[]}`, 0},
		{"same key in sibling objects", `[{"a":1},{"a":2}]`, `[{"a":1},{"a":2}]`, 0},
		{"same key at two depths", `{"a":{"a":1}}`, `{"a":{"a":1}}`, 0},

		{"duplicate", `{"method":"a","method":"b"}`, "", DuplicateKey},
		{"duplicate after escape", `{"name":"a","n\u0061me":"b"}`, "", DuplicateKey},
		{"case variant", `{"method":"a","Method":"b"}`, "", DuplicateKey},
		{"case variant nested", `{"params":{"arguments":{},"Arguments":{}}}`, "", DuplicateKey},
		{"long s folds to s", `{"params":1,"paramſ":2}`, "", DuplicateKey},
		{"kelvin folds to k", `{"kind":1,"Kind":2}`, "", DuplicateKey},
		{"kelvin sign", "{\"k\":1,\"\u212a\":2}", "", DuplicateKey},
		{"duplicate in a large object", bigObject(40, "k07"), "", DuplicateKey},
		{"case variant in a large object", bigObject(40, "K39"), "", DuplicateKey},

		{"invalid utf8", "\"\xff\"", "", Encoding},
		{"invalid utf8 in key", "{\"\xc3\":1}", "", Encoding},
		{"lone high surrogate", `"\ud800"`, "", Encoding},
		{"lone low surrogate", `"\udc00"`, "", Encoding},
		{"high then not low", `"\ud800\u0041"`, "", Encoding},

		{"raw newline in string", "\"a\nb\"", "", Syntax},
		{"trailing data", `{"a":1}{"b":2}`, "", Syntax},
		{"trailing comma", `[1,]`, "", Syntax},
		{"leading zero", `01`, "", Syntax},
		{"bare dot", `1.`, "", Syntax},
		{"bad exponent", `1e`, "", Syntax},
		{"single quotes", `{'a':1}`, "", Syntax},
		{"comment", `{"a":1/*x*/}`, "", Syntax},
		{"NaN", `NaN`, "", Syntax},
		{"bom", "\xef\xbb\xbf{}", "", Syntax},
		{"empty", ``, "", Syntax},
		{"unterminated", `{"a":"b`, "", Syntax},
		{"bad escape", `"\x"`, "", Syntax},
		{"short unicode escape", `"\u12"`, "", Syntax},
		{"too deep", strings.Repeat("[", 5) + strings.Repeat("]", 5), "", TooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Append([]byte("prefix:"), []byte(tt.in), 4)
			if tt.kind != 0 {
				var e *Error
				if !errors.As(err, &e) || e.Kind != tt.kind {
					t.Fatalf("Append(%q) = %q, %v; want an error of kind %d", tt.in, out, err, tt.kind)
				}
				if string(out) != "prefix:" {
					t.Fatalf("dst changed on error: %q", out)
				}
				return
			}
			if err != nil {
				t.Fatalf("Append(%q): %v", tt.in, err)
			}
			if got := strings.TrimPrefix(string(out), "prefix:"); got != tt.want {
				t.Fatalf("Append(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func bigObject(n int, extra string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		b.WriteString(`"k` + string(rune('0'+i/10)) + string(rune('0'+i%10)) + `":1,`)
	}
	b.WriteString(`"` + extra + `":2}`)
	return b.String()
}

func TestErrorNamesTheKeys(t *testing.T) {
	_, err := Append(nil, []byte(`{"name":"a","Name":"b"}`), 8)
	if err == nil || !strings.Contains(err.Error(), `"name" and "Name" differ only in case`) {
		t.Fatalf("error = %v", err)
	}
}

func TestManyKeysLinear(t *testing.T) {
	// 100,000 distinct keys must be checked quickly (a map, not pairs).
	var b bytes.Buffer
	b.WriteString("{")
	for i := 0; i < 100000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k`)
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(json.Number(itoa(i)).String())
		b.WriteString(`":0`)
	}
	b.WriteString("}")
	if _, err := Append(nil, b.Bytes(), 8); err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string {
	return strings.TrimSpace(strings.Replace(string(mustJSON(i)), "\n", "", -1))
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\ nl\n tab\t", "\u2028\u2029\u0085", "\x01\x7f", "é😀", "bad\xffutf8"} {
		enc := AppendString(nil, s)
		canon, err := Append(nil, enc, 1)
		if err != nil {
			t.Fatalf("AppendString(%q) = %s, not canonical JSON: %v", s, enc, err)
		}
		if !bytes.Equal(canon, enc) {
			t.Fatalf("AppendString(%q) = %s, canonical form %s", s, enc, canon)
		}
		var back string
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatal(err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); back != want {
			t.Fatalf("round trip of %q = %q", s, back)
		}
	}
}

func TestFold(t *testing.T) {
	for _, tt := range []struct{ a, b string }{
		{"name", "NAME"}, {"params", "paramſ"}, {"kind", "\u212aind"}, {"Ärger", "ärger"},
	} {
		if Fold(tt.a) != Fold(tt.b) {
			t.Errorf("Fold(%q) != Fold(%q)", tt.a, tt.b)
		}
	}
	if Fold("name") == Fold("names") {
		t.Error("different keys fold alike")
	}
}

// FuzzAppend is a differential fuzz against encoding/json: whatever Append
// accepts, encoding/json reads as the same value from the input and from
// the output; the output is its own canonical form and holds no raw line
// break; and a document with keys that collide under folding is refused.
func FuzzAppend(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":[1,2.5,"s"]}}}`,
		`{"method":"a","Method":"b"}`,
		`{"a":"\u2028","b":"\ud83d\ude00"}`,
		"{\"a\":\n1}",
		`[1,2,{"k":{"K":1}}]`,
		`"\ud800"`,
		"\"\xff\"",
		`{"paramſ":1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Append(nil, data, 32)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of type %T", err)
			}
			if e.Kind == Syntax && json.Valid(data) {
				t.Fatalf("refused valid JSON %q as a syntax error: %v", data, err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if bytes.ContainsAny(out, "\n\r") || bytes.Contains(out, []byte("\u2028")) || bytes.Contains(out, []byte("\u2029")) || bytes.Contains(out, []byte("\u0085")) {
			t.Fatalf("output %q holds a raw line break", out)
		}
		again, err := Append(nil, out, 32)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("output %q is not canonical: %q, %v", out, again, err)
		}
		var a, b any
		da := json.NewDecoder(bytes.NewReader(data))
		da.UseNumber()
		db := json.NewDecoder(bytes.NewReader(out))
		db.UseNumber()
		if da.Decode(&a) != nil || db.Decode(&b) != nil {
			t.Fatalf("encoding/json cannot read %q or %q", data, out)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("input and output differ: %v vs %v", a, b)
		}
		checkKeys(t, b)
	})
}

// checkKeys asserts no object in v has two keys that fold alike.
func checkKeys(t *testing.T, v any) {
	switch v := v.(type) {
	case map[string]any:
		seen := map[string]string{}
		for k, x := range v {
			if o, ok := seen[Fold(k)]; ok {
				t.Fatalf("keys %q and %q fold alike but were accepted", o, k)
			}
			seen[Fold(k)] = k
			checkKeys(t, x)
		}
	case []any:
		for _, x := range v {
			checkKeys(t, x)
		}
	}
}
