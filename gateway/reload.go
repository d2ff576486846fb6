package gateway

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/policy"
)

// PolicyFile keeps a gateway's policy in step with a policy file: Load swaps
// in a new policy only when it is valid, so a bad edit leaves the last good
// policy in force.
type PolicyFile struct {
	name string // the policy's name for grants; "" for the gateway's policy
	path string
	opts *policy.Options
	g    *Gateway
	log  *slog.Logger

	mu       sync.Mutex
	sum      [32]byte // of the content last read, good or not
	seen     bool
	inForce  [32]byte // of the content in force
	loadedAt time.Time
	lastErr  error // why the content last read was refused; nil when it is in force
}

// PolicyStatus is where a policy file stands.
type PolicyStatus struct {
	// Name is the policy's name.
	Name string `json:"name"`
	// Path is the file's path; empty for an inline policy.
	Path string `json:"path,omitempty"`
	// SHA256 is the digest of the document in force; empty when none is.
	SHA256 string `json:"sha256,omitempty"`
	// LoadedAt is when the document in force was loaded.
	LoadedAt time.Time `json:"loaded_at,omitzero"`
	// Error says why the file's current content is refused (the last good
	// policy stays in force); empty when the content is in force.
	Error string `json:"error,omitempty"`
}

// Status returns where the file stands; name is the policy's name.
func (p *PolicyFile) Status(name string) PolicyStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := PolicyStatus{Name: name, Path: p.path, LoadedAt: p.loadedAt}
	if !p.loadedAt.IsZero() {
		st.SHA256 = fmt.Sprintf("%x", p.inForce)
	}
	if p.lastErr != nil {
		st.Error = p.lastErr.Error()
	}
	return st
}

// Document returns the content of the file as it is now.
func (p *PolicyFile) Document() ([]byte, error) { return os.ReadFile(p.path) }

// Replace checks data as a policy and, when it is valid, writes it over
// the file (atomically: a reader sees the old content or the new) and
// puts it in force at once. An invalid document changes nothing and is
// returned as an error with the code Invalid, positioned like a load
// error.
func (p *PolicyFile) Replace(data []byte) error { return p.ReplaceAs(data, "") }

// ReplaceAs is Replace on behalf of actor (an admin token's subject), whom
// the audit log names.
func (p *PolicyFile) ReplaceAs(data []byte, actor string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	eng, err := policy.Load(data, p.path)
	if err != nil {
		p.refused(actor, err)
		return &toolgate.Error{Code: toolgate.Invalid, Message: err.Error(), Err: err}
	}
	if err := writeFileAtomic(p.path, data); err != nil {
		p.log.Error("writing the policy file failed; the policy in force stays", "path", p.path, "err", err)
		return fmt.Errorf("writing the policy file: %w", err)
	}
	p.install(eng, sha256.Sum256(data), actor)
	return nil
}

// policyName is the policy's name in the audit log.
func (p *PolicyFile) policyName() string {
	if p.name == "" {
		return "default"
	}
	return p.name
}

// refused records in the audit log that a document was refused.
func (p *PolicyFile) refused(actor string, err error) {
	if actor == "" {
		actor = "toolgate"
	}
	p.g.AuditAdmin(context.Background(), audit.Admin(audit.ActionPolicyRefused, actor, p.policyName(), err.Error()))
}

// install puts eng, read from content of digest sum, in force on behalf
// of actor ("" for toolgate itself). p.mu is held.
func (p *PolicyFile) install(eng *policy.Engine, sum [32]byte, actor string) {
	p.sum, p.seen, p.inForce, p.loadedAt, p.lastErr = sum, true, sum, time.Now().UTC(), nil
	if p.name != "" {
		p.g.SetNamedPolicy(p.name, eng.WithOptions(p.opts))
	} else {
		p.g.SetPolicy(eng.WithOptions(p.opts))
	}
	p.log.Info("policy loaded", "policy", p.name, "path", p.path, "sha256", fmt.Sprintf("%x", sum[:8]))
	if actor == "" {
		actor = "toolgate"
	}
	p.g.AuditAdmin(context.Background(), audit.Admin(audit.ActionPolicyLoaded, actor, p.policyName(), fmt.Sprintf("sha256:%x", sum)))
}

// writeFileAtomic replaces the file at path with data: written to a new
// file in the same directory, synced, given the old file's mode, and
// renamed over it.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".policy-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, nothing is there
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// NewPolicyFile ties the policy file at path to g; every policy loaded from
// it answers according to opts (nil for the defaults). It loads nothing yet.
func NewPolicyFile(g *Gateway, path string, opts *policy.Options) *PolicyFile {
	return &PolicyFile{path: path, opts: opts, g: g, log: g.log}
}

// NewNamedPolicyFile is NewPolicyFile for the policy called name, which
// decides the calls of the grants that name it (auth: grants).
func NewNamedPolicyFile(g *Gateway, name, path string, opts *policy.Options) *PolicyFile {
	p := NewPolicyFile(g, path, opts)
	p.name = name
	return p
}

// Load reads and compiles the file and, when it is valid and changed, makes
// it the gateway's policy. On error the policy in force stays.
func (p *PolicyFile) Load() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	data, err := os.ReadFile(p.path)
	if err != nil {
		p.log.Error("policy reload failed; keeping the policy in force", "path", p.path, "err", err)
		p.lastErr = fmt.Errorf("reading policy: %w", err)
		return p.lastErr
	}
	sum := sha256.Sum256(data)
	if p.seen && sum == p.sum {
		return nil
	}
	eng, err := policy.Load(data, p.path)
	if err != nil {
		// Remember the bad content so it is reported once, not on every poll.
		p.sum, p.seen, p.lastErr = sum, true, err
		p.log.Error("policy reload refused; keeping the policy in force", "path", p.path, "err", err)
		p.refused("", err)
		return err
	}
	p.install(eng, sum, "")
	return nil
}

// Watch reloads the file whenever its content changes, checking every
// interval, and on every value received from signals (e.g. SIGHUP), until
// ctx ends.
func (p *PolicyFile) Watch(ctx context.Context, interval time.Duration, signals <-chan os.Signal) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-signals:
			p.log.Info("reloading the policy on signal", "path", p.path)
			p.mu.Lock()
			p.seen = false
			p.mu.Unlock()
		}
		_ = p.Load()
	}
}
