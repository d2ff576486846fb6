package scan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// sameParse checks that ParseToolList (the one-pass reader, falling back
// to encoding/json) and parseToolListStd (encoding/json alone) read data
// alike: the same tools, byte for byte, the same problems, the same error.
func sameParse(t *testing.T, data []byte) {
	t.Helper()
	got, gerr := ParseToolList(data)
	want, werr := parseToolListStd(data)
	if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
		t.Fatalf("ParseToolList(%.80q): error %v, encoding/json %v", data, gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseToolList(%.80q):\n got %+v\nwant %+v", data, got, want)
	}
}

// sameDecode checks decodeJSON against encoding/json, and the canonical
// form written from its value against encoding/json's.
func sameDecode(t *testing.T, raw []byte) {
	t.Helper()
	got, gerr := decodeJSON(raw)
	want, werr := decodeJSONStd(raw)
	if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
		t.Fatalf("decodeJSON(%.80q): error %v, encoding/json %v", raw, gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeJSON(%.80q):\n got %#v\nwant %#v", raw, got, want)
	}
	tool := Tool{Name: "t", InputSchema: raw}
	if gerr != nil {
		return
	}
	if c, s := Canonical(tool), canonicalToolStd(tool, want, nil, nil); string(c) != string(s) {
		t.Fatalf("canonical form of %.80q:\n got %s\nwant %s", raw, c, s)
	}
}

// TestFastJSONCorpus reads every tool list of the corpus and the fixtures
// with the one-pass readers and with encoding/json: the tools, problems,
// decoded schemas and pins must be the same.
func TestFastJSONCorpus(t *testing.T) {
	var files []string
	for _, g := range []string{"testdata/corpus/*.json", "testdata/toollists/*.json", "../../shared/fixtures/toollists/*.json"} {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	tools := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sameParse(t, data)
		l, err := ParseToolList(data)
		if err != nil {
			continue // labels.json
		}
		for _, tool := range l.Tools {
			tools++
			for _, raw := range [][]byte{tool.InputSchema, tool.OutputSchema, tool.Annotations} {
				if len(raw) > 0 {
					sameDecode(t, raw)
				}
			}
			c := canonicalToolStd(tool, canonicalRaw(tool.InputSchema), canonicalRaw(tool.OutputSchema), canonicalRaw(tool.Annotations))
			if got := Canonical(tool); string(got) != string(c) {
				t.Fatalf("%s/%s: canonical form differs:\n got %s\nwant %s", f, tool.Name, got, c)
			}
		}
	}
	if tools < 400 {
		t.Fatalf("only %d tools read", tools)
	}
}

func TestFastJSONEdges(t *testing.T) {
	lists := []string{
		``, `   `, `[]`, `{}`, `null`, `{"tools":[]}`, `{"tools":null}`, `{"tools":{}}`, `{"tools":[1]}`, `{"tools":[null]}`,
		`{"tools":[{"name":"a"}]} x`, `[{"name":"a"}] ]`, `{"Tools":[{"name":"a"}]}`, `{"TOOLS":[{"name":"a"}],"tools":[]}`,
		`{"ſerver":"x","tools":[]}`, `{"server":1,"tools":[]}`, `{"server":null,"tools":[]}`, `{"server":"a","server":"b","tools":[]}`,
		`{"server":"a","server":null,"tools":[]}`, "{\"server\":\"\xff\",\"tools\":[]}", `{"server":"\ud800","tools":[]}`,
		`{"result":{"tools":[{"name":"a"}]}}`, `{"result":{"tools":[{"name":"a"}]},"result":{}}`, `{"result":{"tools":[{"name":"a"}]},"result":null}`,
		`{"result":{"Tools":[{"name":"a"}]}}`, `{"result":[],"tools":[]}`, `{"result":{"tools":[{"name":"a"}]},"tools":[{"name":"b"}]}`,
		`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"}],"nextCursor":"x"}}`,
		`{"tools":[1],"tools":[{"name":"b"}]}`, `{"tools":[{"name":"a"}],"tools":[{"name":"b"},{"name":"b"}]}`, `{"tools":[{"name":"a"}],"tools":null}`,
		`{"tools":[{"name":"a"}],"tools":[]}`, `{"result":{"tools":[{"name":"a","title":1}],"tools":[{"name":"b"}]},"server":"s"}`,
		` { "tools" : [ { "name" : "a" } , { "name" : "a" , "title" : 2 } ] } `, `{"result":{"tools":[{"name":"a"}]},"result":null,"tools":[{"name":""}]}`,
		`[ ]`, `[{"name":"a"} , {"name":"b"}]`, `{"tools":[{"name":"a"}]`, `{"tools":[{"name":"a"}]}}`, `[{"name":"a"},1]`,
		`[{"name":"a"},{"name":"a"},{"name":""},{}]`, `[{"name":1,"title":[],"description":{},"inputSchema":"x","outputSchema":1,"annotations":[]}]`,
		`[{"name":null,"inputSchema":null,"annotations":null}]`, `[{"name":"a","name":"b"}]`, `[{"n\u0061me":"a"}]`, `[{"name":"a\u00e9\n\"x"}]`,
		`[{"name":"\ud83d\ude00"}]`, `[{"name":"\udc00"}]`, "[{\"name\":\"a\xffb\"}]", "[{\"name\":\"a\u2028b\"}]",
		`[{"name":"a","inputSchema":{"type":"object","properties":{"x":{"type":"string"}}}, "annotations":{"readOnlyHint":true}}]`,
		`[{"name":"a","inputSchema":{"a":1e}}]`, `[{"name":"a",}]`, `[{"name":"a"},]`, `[{"name" "a"}]`, `[{"name":"a"}`, `[{"name":"a\x"}]`,
		"[{\"name\":\"a\tb\"}]", `[{"name":"a","extra":[1,2,{"b":[true,false,null,-0.5e+3]}]}]`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		`{"tools":[{"name":"a","inputSchema":` + strings.Repeat(`{"a":`, 9997) + `1` + strings.Repeat(`}`, 9997) + `}]}`,
		`{"tools":[{"name":"a","inputSchema":` + strings.Repeat(`{"a":`, 9998) + `1` + strings.Repeat(`}`, 9998) + `}]}`,
	}
	for _, l := range lists {
		sameParse(t, []byte(l))
	}
	values := []string{
		`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e10`, `-12E-3`, `01`, `1.`, `.5`, `-`, `1e`, `1e+`, `"a"`, `"\u0041\/"`,
		`"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\udc00"`, "\"\x01\"", `{"a":1}garbage`, `123abc`, `truex`, `tru`,
		`{"a":1,"a":2}`, `{"b":1,"a":[1,{"c":null}]}`, `{"a":"<&>\u2028\u2029\b\f\u0001\u007f"}`, ` {"a" : [ 1 , 2 ] } `, `{"a":1,}`,
		`[1,2`, `{"a"}`, `{1:2}`, `"\u00e9\u0000"`, `{"k":"é"}`, strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001), `{"a":1}{"b":2}`, "\t\n 5 ",
	}
	for _, v := range values {
		sameDecode(t, []byte(v))
	}
}

// FuzzFastJSON holds the one-pass readers to encoding/json's results on
// any input.
func FuzzFastJSON(f *testing.F) {
	f.Add([]byte(`{"tools":[{"name":"a","description":"b\u00e9","inputSchema":{"type":"object","properties":{"x":{"type":"string","enum":["a",1,-2.5e3,true,null]}}}}]}`))
	f.Add([]byte(`[{"name":"\ud83d\ude00","annotations":{"readOnlyHint":true}},{"name":"\ud800"}]`))
	f.Add([]byte(`{"result":{"tools":[{"name":"a"}]},"server":"s"}`))
	f.Add([]byte("{\"a\":\"\xff\u2028\",\"b\":[01]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameParse(t, data)
		sameDecode(t, data)
		sameTokens(t, string(data))
		tool := Tool{Name: string(data), Title: string(data), Description: string(data)}
		if c, s := Canonical(tool), canonicalToolStd(tool, nil, nil, nil); string(c) != string(s) {
			t.Fatalf("canonical form of %q:\n got %s\nwant %s", data, c, s)
		}
	})
}

// sameTokens checks the ASCII splitting of names against the general one.
func sameTokens(t *testing.T, s string) {
	t.Helper()
	for _, max := range []int{0, 1, 3, 16, 32} {
		if got, ok := asciiTokens(s, max); ok && !reflect.DeepEqual(got, runeTokens(s, max)) {
			t.Fatalf("tokens(%q, %d) = %q, want %q", s, max, got, runeTokens(s, max))
		}
	}
}

func TestASCIITokens(t *testing.T) {
	for _, s := range []string{"", "getUserId", "gzip-file-as-resource", "UpdateUser", "HTTPServer", "API-post-search", "a1B2c3",
		"ABC", "aBC", "ABCdef", "x__y", "max_tokens", "ID", "userIDs", "v2Token", "A", "-", "__A__b", "getURLForID",
		"1stPlace", "skip_password_checks", "a b\tc", strings.Repeat("aB", 3000)} {
		sameTokens(t, s)
	}
	for _, tool := range corpusTools(t) {
		sameTokens(t, tool.Name)
		props, _ := decodeJSON(tool.InputSchema)
		if m, ok := props.(map[string]any); ok {
			if p, ok := m["properties"].(map[string]any); ok {
				for k := range p {
					sameTokens(t, k)
				}
			}
		}
	}
}

// TestStrRun checks plainRun and strRun on every byte at several places.
func TestStrRun(t *testing.T) {
	for _, s := range []string{"", "a", "abcdefgh", `abcdefg\`, `\abcdefgh`, "abcdefgh\\ijk", "abcdefgh\x1fijk", "\\\\\\\\", "é\\", "ééééé", "\x7f\x80 abcdefgh", "abcdefgh\"", "abcdefghé\"x"} {
		sameRuns(t, []byte(s))
	}
	for c := 0; c < 256; c++ {
		for _, at := range []int{0, 3, 7, 8, 13, 15} {
			b := []byte("abcdefghijklmnop")
			b[at] = byte(c)
			sameRuns(t, b)
		}
	}
}

// sameRuns checks plainRun and strRun from every index of s against
// byte-by-byte tests.
func sameRuns(t *testing.T, s []byte) {
	t.Helper()
	for i := 0; i <= len(s); i++ {
		want := i
		for want < len(s) && s[want] >= 0x20 && s[want] < 0x80 && s[want] != '"' && s[want] != '\\' {
			want++
		}
		if got := plainRun(s, i); got != want {
			t.Fatalf("plainRun(%q, %d) = %d, want %d", s, i, got, want)
		}
		want = i
		ascii := true
		for want < len(s) && s[want] >= 0x20 && s[want] != '"' && s[want] != '\\' {
			ascii = ascii && s[want] < 0x80
			want++
		}
		if got, gascii := strRun(s, i); got != want || gascii != ascii {
			t.Fatalf("strRun(%q, %d) = %d %v, want %d %v", s, i, got, gascii, want, ascii)
		}
	}
}

// FuzzStrRun holds plainRun and strRun to the byte-by-byte tests.
func FuzzStrRun(f *testing.F) {
	for _, s := range []string{"", "abcdefgh", `abcdefg\`, "abcdefg\x1f", "\\n", "é\\u0000", "abcdefghé\\", "\x7f\x80\x1f\x20abcdefghijklmnop", "abcdefghijklmno\"p"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		sameRuns(t, s)
	})
}

// canonicalToolStd is the canonical form of a tool written by
// encoding/json, the reference Canonical and the pin walk are held to.
func canonicalToolStd(t Tool, in, out, ann any) []byte {
	p := pinned{Name: t.Name, Title: t.Title, Description: t.Description, InputSchema: in, OutputSchema: out, Annotations: ann}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		// Only invalid UTF-8 could get here, and encoding/json replaces it.
		return []byte(strconv.Quote(t.Name))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
