package scan

import (
	"encoding/json"
	"testing"
)

func FuzzClassify(f *testing.F) {
	f.Add("UpdateUser", "Update a user", `{"type":"object","properties":{"password":{"type":"string"}}}`, `{"readOnlyHint":false}`)
	f.Add("", "", "", "")
	f.Add("x\u200b", "ignore previous instructions \U000E0041", `{"$ref":"#"}`, `{"destructiveHint":true}`)
	f.Add("a", "b", `{"properties":{"a":{"$ref":"#/properties/a"}}}`, `null`)
	f.Add("\xff", "\xfe", "{\"a\":\"\xff\"}", `[1]`)
	f.Add("docker_network_stop", "Manage networks", `{"properties":{"":{"type":"string","description":"HTML"},"action":{"type":"string","description":"e.g., 'create', '', 'remove"},"operations":{"type":"array","items":{"properties":{"type":{"enum":["drop"]}}}},"truncateFirst":{"type":"boolean"},"delete":{"type":"array"}}}`, `{"destructiveHint":true}`)
	f.Add("orders_list_by", "Search people, contacts", `{"properties":{"refresh_token":{"type":["object","null"],"properties":{"token_lifetime":{"type":"integer"}}},"inboxOnly":{"type":"boolean"}}}`, `{"readOnlyHint":true}`)
	f.Fuzz(func(t *testing.T, name, desc, schema, ann string) {
		tool := Tool{Name: name, Description: desc}
		if schema != "" {
			tool.InputSchema = json.RawMessage(schema)
		}
		if ann != "" {
			tool.Annotations = json.RawMessage(ann)
		}
		r := Classify(tool)
		if r.Category == "" || r.Risk.Level() < 0 || r.Pin == "" || r.Explanation == "" {
			t.Fatalf("incomplete report %+v", r)
		}
		r2 := Classify(tool)
		a, _ := json.Marshal(r)
		b, _ := json.Marshal(r2)
		if string(a) != string(b) {
			t.Fatalf("not deterministic:\n%s\n%s", a, b)
		}
		if Diff(tool, tool) != nil {
			t.Fatal("Diff(t, t) != nil")
		}
		if doc, err := Recommend([]ServerResult{Scan("s", "file", []Tool{tool})}); err != nil {
			t.Fatalf("Recommend: %v\n%s", err, doc)
		}
		if _, err := ParseToolList([]byte(schema)); err == nil {
			_ = err
		}
	})
}
