package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// TestInterceptUpstreamPolicies loads every policy file of a checkout of
// PolicyLayer's Intercept (its policies/ folder), when INTERCEPT_POLICIES
// names that folder. The files are Intercept's and are not part of this
// repository, so the test is skipped otherwise.
func TestInterceptUpstreamPolicies(t *testing.T) {
	dir := os.Getenv("INTERCEPT_POLICIES")
	if dir == "" {
		t.Skip("INTERCEPT_POLICIES is not set")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no policy files in %s: %v", dir, err)
	}
	for _, f := range files {
		e, err := LoadFile(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if e.Format() != FormatIntercept {
			t.Errorf("%s: read as %s", f, e.Format())
		}
	}
}
