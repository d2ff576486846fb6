package outbound

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCheckURL(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"https://siem.example/ingest", ""},
		{"http://127.0.0.1:9000/x", ""},
		{"http://[::1]:9000/x", ""},
		{"http://localhost/x", ""},
		{"http://siem.example/ingest", "loopback"},
		{"ftp://siem.example/", "https://"},
		{"https://u:p@siem.example/", "credentials"},
		{"https://siem.example/#f", "fragment"},
		{"https:///x", "no host"},
		{"https://u:secret@siem.example/%zz", "not a valid URL"},
		{"ftp://u:secret@siem.example/", "is not an https:// URL"},
	} {
		err := CheckURL(tt.url)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckURL(%q) = %v, want %q", tt.url, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("CheckURL(%q) repeats the password: %v", tt.url, err)
		}
	}
}

func TestRetryDo(t *testing.T) {
	fail := errors.New("nope")
	for _, tt := range []struct {
		name         string
		retries      int
		failFirst    int
		wantAttempts int
		wantErr      bool
	}{
		{"first try", 3, 0, 1, false},
		{"after two failures", 3, 2, 3, false},
		{"retries run out", 2, 10, 3, true},
		{"no retries", 0, 10, 1, true},
		{"negative is none", -1, 10, 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, told := 0, 0
			r := Retry{Retries: tt.retries, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
			err := r.Do(context.Background(), func(context.Context) error {
				n++
				if n <= tt.failFirst {
					return fail
				}
				return nil
			}, func(int, error) { told++ })
			if n != tt.wantAttempts || (err != nil) != tt.wantErr || told != min(tt.failFirst, tt.wantAttempts) {
				t.Errorf("attempts %d, told %d, err %v; want %d attempts, err %v", n, told, err, tt.wantAttempts, tt.wantErr)
			}
		})
	}
}

func TestRetryDoStops(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Retry{Retries: 5, Backoff: time.Hour}.Do(ctx, func(context.Context) error { return errors.New("nope") }, nil)
	if !errors.Is(err, ErrStopped) || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %s, want ErrStopped soon", err, time.Since(start))
	}
}

func TestPostStatus(t *testing.T) {
	for _, code := range []int{200, 204, 302, 400, 503} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-T") != "v" {
				t.Errorf("header X-T = %q", r.Header.Get("X-T"))
			}
			w.Header().Set("Location", "http://127.0.0.1:1/")
			w.WriteHeader(code)
		}))
		err := Post(context.Background(), NewClient(), srv.URL, http.Header{"X-T": {"v"}}, []byte("x"), 5*time.Second)
		srv.Close()
		if ok := code >= 200 && code < 300; ok != (err == nil) {
			t.Errorf("status %d: err %v", code, err)
		}
	}
}
