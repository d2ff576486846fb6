package directory_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/toolgate/toolgate/directory"
)

// shellWords splits a command line with single and double quotes (no
// escapes or expansions, which the example does not use).
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case unicode.IsSpace(r):
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

var expectRE = regexp.MustCompile(`#\s*→\s*(\d{3})\s*(\S*)\s*$`)

// TestDocsExample runs the curl lines of docs/directory.md's example, in
// order, against a live seeded directory with the example's keys.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "directory.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "<!-- example:directory -->\n```sh\n")
	if !ok {
		t.Fatal("docs/directory.md has no example block")
	}
	block, _, _ = strings.Cut(block, "```")

	ctx := context.Background()
	store, err := directory.Open(ctx, filepath.Join(t.TempDir(), "directory.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var e *env
	ran := 0
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		words := shellWords(line)
		switch {
		case len(words) > 2 && words[0] == "toolgate" && words[1] == "directory":
			var sk, ak []string
			seed := false
			for i, w := range words {
				switch w {
				case "--secret-key":
					sk = append(sk, words[i+1])
				case "--api-key":
					ak = append(ak, words[i+1])
				case "--seed":
					seed = true
				}
			}
			if seed {
				if _, err := directory.Seed(ctx, store); err != nil {
					t.Fatal(err)
				}
			}
			e = newEnvWith(t, store, sk, ak)
			continue
		case len(words) == 0 || words[0] != "curl":
			t.Fatalf("unexpected line in the example: %s", line)
		}
		if e == nil {
			t.Fatal("curl before the server starts")
		}
		method, url, body := "GET", "", ""
		headers := map[string]string{}
		for i := 1; i < len(words); i++ {
			switch w := words[i]; w {
			case "-s":
			case "-X":
				i++
				method = words[i]
			case "-H":
				i++
				k, v, _ := strings.Cut(words[i], ":")
				headers[k] = strings.TrimSpace(v)
			case "-d":
				i++
				body = words[i]
				if method == "GET" {
					method = "POST"
				}
			default:
				if strings.HasPrefix(w, "#") {
					i = len(words)
					continue
				}
				url = w
			}
		}
		path := strings.TrimPrefix(url, "http://127.0.0.1:8090")
		wantStatus, wantCode := 200, ""
		if m := expectRE.FindStringSubmatch(line); m != nil {
			wantStatus, _ = strconv.Atoi(m[1])
			wantCode = m[2]
		}
		var b any
		if body != "" {
			b = body
		}
		r := e.doWith(method, path, b, headers)
		ran++
		if r.status != wantStatus {
			t.Errorf("%s\n  status %d, want %d: %s", line, r.status, wantStatus, r.body)
			continue
		}
		if wantCode != "" {
			if strings.HasPrefix(path, "/v1/") {
				if c, _ := r.errCode(t); c != wantCode {
					t.Errorf("%s\n  code %s, want %s", line, c, wantCode)
				}
			}
		}
	}
	if ran < 10 {
		t.Errorf("ran only %d curl lines", ran)
	}
	// The example's effects.
	u, err := directory.NewService(store, nil).GetUser(ctx, "user_demo_ada")
	if err != nil {
		t.Fatal(err)
	}
	if *u.FirstName != "Augusta" || u.PublicMetadata["plan"] != "enterprise" || u.PublicMetadata["favoriteColor"] != "green" {
		t.Errorf("after the example: %s %v", *u.FirstName, u.PublicMetadata)
	}
}
