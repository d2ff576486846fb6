package gateway

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

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

	mu   sync.Mutex
	sum  [32]byte
	seen bool
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
		return fmt.Errorf("reading policy: %w", err)
	}
	sum := sha256.Sum256(data)
	if p.seen && sum == p.sum {
		return nil
	}
	eng, err := policy.Load(data, p.path)
	if err != nil {
		// Remember the bad content so it is reported once, not on every poll.
		p.sum, p.seen = sum, true
		p.log.Error("policy reload refused; keeping the policy in force", "path", p.path, "err", err)
		return err
	}
	p.sum, p.seen = sum, true
	if p.name != "" {
		p.g.SetNamedPolicy(p.name, eng.WithOptions(p.opts))
	} else {
		p.g.SetPolicy(eng.WithOptions(p.opts))
	}
	p.log.Info("policy loaded", "policy", p.name, "path", p.path, "sha256", fmt.Sprintf("%x", sum[:8]))
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
