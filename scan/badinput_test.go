package scan

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestBadInput(t *testing.T) {
	deep := strings.Repeat(`{"type":"object","properties":{"a":`, 2000) + `{"type":"string"}` + strings.Repeat(`}}`, 2000)
	var many strings.Builder
	many.WriteString(`{"type":"object","properties":{`)
	for i := range 10000 {
		if i > 0 {
			many.WriteByte(',')
		}
		fmt.Fprintf(&many, `"p%d":{"type":"string","description":"property %d"}`, i, i)
	}
	many.WriteString(`}}`)
	loop := `{"type":"object","$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"},"n":{"type":"object","properties":{"child":{"$ref":"#/$defs/n"}}}},"properties":{"x":{"$ref":"#/$defs/a"},"y":{"$ref":"#/$defs/n"},"z":{"$ref":"#"},"w":{"$ref":"http://example.com/s.json"}}}`
	huge := strings.Repeat("Delete all the things. ", 1<<19) // ~12 MB
	list := `{"tools":[
		{"description":"no name"},
		{"name":"dup"},{"name":"dup"},
		{"name":"deep","inputSchema":` + deep + `},
		{"name":"many","inputSchema":` + many.String() + `},
		{"name":"loop","inputSchema":` + loop + `},
		{"name":42,"inputSchema":"not an object","annotations":[1]},
		{"name":"bad-schema","inputSchema":{"type":"string","properties":[1,2]}},
		"not an object"
	]}`
	start := time.Now()
	l, err := ParseToolList([]byte(list))
	if err != nil {
		t.Fatal(err)
	}
	l.Tools = append(l.Tools,
		Tool{Name: "huge", Description: huge},
		Tool{Name: "bin\xff\xfe", Description: "\x00\x01\xc3", InputSchema: json.RawMessage("{\"description\":\"\xff\"}")},
		Tool{Name: "truncated", InputSchema: json.RawMessage(`{"type":"object","properties":{`)},
	)
	sr := Scan("bad", "file", l.Tools)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("bad input took %v", d)
	}
	var probs []string
	for _, p := range append(l.Problems, sr.Problems...) {
		probs = append(probs, p.String())
	}
	all := strings.Join(probs, "\n")
	for _, want := range []string{"tool has no name", `duplicate name (first at tool 1)`, `"name" is not a string`,
		`"inputSchema" is not an object`, "refers back to itself", "is not local", "not valid UTF-8",
		"nesting deeper than 64", "not a JSON object", "properties is not an object", "unexpected EOF"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
	for _, r := range sr.Tools {
		if r.Category == "" || r.Risk == "" || r.Pin == "" || r.Explanation == "" {
			t.Errorf("%q not classified: %+v", r.Name, r)
		}
		switch r.Name {
		case "many":
			if r.Properties != 10000 || !r.Has(SigParams) {
				t.Errorf("many: %d properties, %+v", r.Properties, r.Signals)
			}
		case "huge":
			if !r.Has(SigLongText) {
				t.Errorf("huge: %+v", r.Signals)
			}
		case "bin\xff\xfe":
			if !r.Has(SigUnicode) {
				t.Errorf("binary: %+v", r.Signals)
			}
		}
	}
}
