package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDocExamples loads every example document of docs/policy.md.
func TestDocExamples(t *testing.T) {
	files, err := filepath.Glob("../docs/examples/policy/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no examples in ../docs/examples/policy")
	}
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) {
			if _, err := LoadFile(p); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile("../docs/policy.md")
			if err != nil {
				t.Fatal(err)
			}
			if !containsName(data, "examples/policy/"+filepath.Base(p)) {
				t.Errorf("docs/policy.md does not mention %s", filepath.Base(p))
			}
		})
	}
}

func containsName(data []byte, name string) bool {
	return len(name) > 0 && bytesContains(data, []byte(name))
}

func bytesContains(b, sub []byte) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return true
		}
	}
	return false
}
