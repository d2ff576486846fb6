package directory_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/internal/cli"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// TestServeCommand runs `toolgate directory serve --seed` on a free port,
// with keys from the flag, the environment and the configuration file, and
// stops it by cancelling its context.
func TestServeCommand(t *testing.T) {
	t.Setenv("TOOLGATE_DIRECTORY_SECRET_KEYS", "sk_test_env1, sk_test_env2")
	t.Setenv("DIR_KEY", "sk_test_cfg")
	cfg := filepath.Join(t.TempDir(), "toolgate.yaml")
	if err := os.WriteFile(cfg, []byte("directory:\n  secret_keys: [\"${DIR_KEY}\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut testpeer.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"directory", "serve", "--config", cfg, "--data", t.TempDir(), "--listen", "127.0.0.1:0",
			"--secret-key", "sk_test_flag", "--api-key", "it_flag", "--seed"}, strings.NewReader(""), &out, &errOut)
	}()
	re := regexp.MustCompile(`Clerk API (http://[^/]+)/v1`)
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("no address printed; stdout %q stderr %q", out.String(), errOut.String())
	}
	get := func(key string) (int, string) {
		req, _ := http.NewRequest("GET", base+"/v1/users/count", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, k := range []string{"sk_test_flag", "sk_test_env1", "sk_test_env2", "sk_test_cfg"} {
		if s, b := get(k); s != 200 || b != `{"object":"total_count","total_count":6}` {
			t.Errorf("%s: %d %s", k, s, b)
		}
	}
	if s, _ := get("sk_test_nope"); s != 401 {
		t.Errorf("wrong key: %d", s)
	}
	if strings.Contains(out.String(), "generated") {
		t.Errorf("generated a key although keys were given: %s", out.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d; stderr %s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}
