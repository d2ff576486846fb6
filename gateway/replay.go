package gateway

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of the replay buffer of a session's GET stream.
const (
	DefaultReplayEvents = 256
	DefaultReplayBytes  = 1 << 20
)

// streamRetry is the reconnection delay a priming event asks of the client
// (the SSE retry field).
const streamRetry = time.Second

// takeoverWait bounds how long a resuming GET waits for the stream it
// replaces to end.
const takeoverWait = 5 * time.Second

// replayLog numbers the events a session's GET stream writes and keeps the
// newest of them, within a bound in events and bytes, so that a client
// whose connection dropped can come back with Last-Event-ID and get what it
// missed.
//
// An event id is "<tag>-<n>": tag is random per session, n counts the
// session's stream events from 1. An id with another tag (another
// session's, or forged) names nothing here.
type replayLog struct {
	tag       string
	maxEvents int
	maxBytes  int64

	mu      sync.Mutex
	seq     uint64 // the last number given out
	events  []loggedEvent
	bytes   int64
	evicted uint64 // the number of the newest event no longer kept; 0: none
	cur     *getStream
}

type loggedEvent struct {
	seq  uint64
	data []byte
}

func newReplayLog(maxEvents int, maxBytes int64) *replayLog {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &replayLog{tag: hex.EncodeToString(b[:]), maxEvents: maxEvents, maxBytes: maxBytes}
}

// id is the event id of number seq.
func (l *replayLog) id(seq uint64) string {
	return l.tag + "-" + strconv.FormatUint(seq, 10)
}

// parse returns the number of an event id this log gave out; ok is false
// for an id of another session, a forged one, or one not given out yet.
func (l *replayLog) parse(id string) (seq uint64, ok bool) {
	tag, n, found := strings.Cut(id, "-")
	if !found || subtle.ConstantTimeCompare([]byte(tag), []byte(l.tag)) != 1 {
		return 0, false
	}
	seq, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq > l.seq {
		return 0, false
	}
	return seq, true
}

// record numbers data and keeps it, dropping the oldest events beyond the
// bounds. An event larger than the byte bound is numbered but not kept.
func (l *replayLog) record(data []byte) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	l.events = append(l.events, loggedEvent{seq: l.seq, data: data})
	l.bytes += int64(len(data))
	for len(l.events) > 0 && (len(l.events) > l.maxEvents || l.bytes > l.maxBytes) {
		l.evicted = l.events[0].seq
		l.bytes -= int64(len(l.events[0].data))
		l.events[0] = loggedEvent{}
		l.events = l.events[1:]
	}
	return l.seq
}

// next gives out a number that names no message (a priming event's).
func (l *replayLog) next() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	return l.seq
}

// since returns the kept events numbered after seq, oldest first, and
// whether events after seq were dropped before the client came back.
func (l *replayLog) since(seq uint64) (events []loggedEvent, lost bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.events {
		if e.seq > seq {
			events = append(events, l.events[i:]...)
			break
		}
	}
	return events, seq < l.evicted
}

// getStream is one open GET stream of a session, which a resuming GET may
// end to take its place.
type getStream struct {
	rc    *http.ResponseController
	stop  chan struct{} // closed to end the stream
	ended chan struct{} // closed once its handler stopped writing

	mu       sync.Mutex
	stopped  bool
	finished bool
}

func newGetStream(rc *http.ResponseController) *getStream {
	return &getStream{rc: rc, stop: make(chan struct{}), ended: make(chan struct{})}
}

// writeDeadline sets the deadline of the next write; false means the
// stream was ended and must not write.
func (g *getStream) writeDeadline(d time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	_ = g.rc.SetWriteDeadline(time.Now().Add(d))
	return true
}

// end asks the stream to end, and cuts short a write it is blocked in.
func (g *getStream) end() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	g.stopped = true
	close(g.stop)
	if !g.finished {
		_ = g.rc.SetWriteDeadline(time.Now())
	}
}

// finish marks the handler done with its response: end no longer touches
// it.
func (g *getStream) finish() {
	g.mu.Lock()
	g.finished = true
	g.mu.Unlock()
	close(g.ended)
}

// attach makes st the session's current GET stream.
func (l *replayLog) attach(st *getStream) {
	l.mu.Lock()
	l.cur = st
	l.mu.Unlock()
}

// detach forgets st if it is still the current stream.
func (l *replayLog) detach(st *getStream) {
	l.mu.Lock()
	if l.cur == st {
		l.cur = nil
	}
	l.mu.Unlock()
}

// current is the open GET stream, or nil.
func (l *replayLog) current() *getStream {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}
