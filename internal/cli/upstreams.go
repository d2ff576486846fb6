package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/toolgate/toolgate/gateway"
)

// upstreamProgress tells the terminal how the eager upstreams start: one
// line when each is ready or fails, and, for a slow start, a line every
// progressEvery while it is still starting.
type upstreamProgress struct {
	out   io.Writer
	mu    sync.Mutex
	began map[string]time.Time // when each upstream's current start began
}

const progressEvery = 5 * time.Second

func newUpstreamProgress(out io.Writer) *upstreamProgress {
	return &upstreamProgress{out: out, began: map[string]time.Time{}}
}

// changed is the gateway's Options.OnUpstreamState.
func (p *upstreamProgress) changed(st gateway.UpstreamStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	began, ok := p.began[st.Name]
	if !ok {
		began = st.Since
	}
	switch st.State {
	case gateway.StateStarting, gateway.StateRestarting:
		p.began[st.Name] = st.Since
		if st.State == gateway.StateRestarting {
			fmt.Fprintf(p.out, "upstream %s stopped; restarting it (restart %d)\n", st.Name, st.Restarts)
		}
	case gateway.StateReady:
		fmt.Fprintf(p.out, "upstream %s ready: %d tools (%s)\n", st.Name, st.Tools, time.Since(began).Round(100*time.Millisecond))
	case gateway.StateFailed:
		retry := "; gave up restarting it (restart toolgate once it is fixed)"
		if st.NextAttempt != nil {
			retry = fmt.Sprintf("; trying again in %s", time.Until(*st.NextAttempt).Round(time.Second))
		}
		fmt.Fprintf(p.out, "upstream %s failed: %s%s\n", st.Name, st.Reason, retry)
	}
}

// watch prints, every progressEvery until ctx ends, which upstreams are
// still starting and for how long.
func (p *upstreamProgress) watch(ctx context.Context, gw *gateway.Gateway) {
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, st := range gw.Upstreams() {
			if st.State != gateway.StateStarting && st.State != gateway.StateRestarting {
				continue
			}
			p.mu.Lock()
			fmt.Fprintf(p.out, "upstream %s still starting (%s)\n", st.Name, time.Since(st.Since).Round(time.Second))
			p.mu.Unlock()
		}
	}
}
