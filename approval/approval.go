package approval

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/toolgate/toolgate/redact"
)

// Status is where a request stands.
type Status string

// The statuses of a request. Only Pending requests can be decided; the
// other three are final.
const (
	Pending  Status = "pending"
	Approved Status = "approved"
	Denied   Status = "denied"
	Expired  Status = "expired"
)

func (s Status) valid() bool {
	switch s {
	case Pending, Approved, Denied, Expired:
		return true
	}
	return false
}

// Request is one call waiting for (or past) a human decision.
type Request struct {
	ID        string          `json:"id"`     // "apr_" + 20 random hex chars
	Tool      string          `json:"tool"`   // as the agent named it
	Server    string          `json:"server"` // upstream server
	Subject   string          `json:"subject"`
	Grant     string          `json:"grant,omitempty"`
	Session   string          `json:"session,omitempty"`
	Rule      string          `json:"rule"`      // JSON Pointer of the policy rule that asked for approval
	Args      json.RawMessage `json:"args"`      // the call's arguments with secrets redacted (see Manager.Request)
	ArgsHash  string          `json:"args_hash"` // HMAC-SHA256 hex, under the store's key, of the canonical JSON of the unredacted arguments (see HashArgs)
	Status    Status          `json:"status"`
	CreatedAt time.Time       `json:"created_at"`
	ExpiresAt time.Time       `json:"expires_at"`
	DecidedAt *time.Time      `json:"decided_at,omitempty"`
	DecidedBy string          `json:"decided_by,omitempty"`
	Reason    string          `json:"reason,omitempty"`
}

// clone returns a deep copy of r.
func (r *Request) clone() *Request {
	c := *r
	if r.Args != nil {
		c.Args = append(json.RawMessage(nil), r.Args...)
	}
	if r.DecidedAt != nil {
		t := *r.DecidedAt
		c.DecidedAt = &t
	}
	return &c
}

var (
	// ErrNotFound is returned for an unknown request ID.
	ErrNotFound = errors.New("approval: request not found")
	// ErrNotPending is returned when deciding a request that was already
	// decided or has expired.
	ErrNotPending = errors.New("approval: request is not pending")
	// ErrUsed is returned by Wait when the request was approved but the
	// approval already released another call (a retry that took it with
	// TakeApproved, or another Wait on the same request).
	ErrUsed = errors.New("approval: approval already used")
)

// Store persists requests. Implementations must be safe for concurrent use.
type Store interface {
	// Create stores a new request; its ID must be unique.
	Create(ctx context.Context, r *Request) error
	// Get returns the request with id, or ErrNotFound.
	Get(ctx context.Context, id string) (*Request, error)
	// List returns requests with status (all when status is ""), newest
	// first, at most limit (100 when limit <= 0).
	List(ctx context.Context, status Status, limit int) ([]*Request, error)
	// Decide atomically moves a pending request to approved, denied or
	// expired and returns it; ErrNotPending if it is no longer pending,
	// ErrNotFound if absent.
	Decide(ctx context.Context, id string, to Status, by, reason string, at time.Time) (*Request, error)
	// TakeApproved returns an approved request matching m that was decided
	// at or after since and has not released a call yet, and marks it used
	// at now, so that one approval releases one call: of several, the first
	// decided. It returns nil, nil when there is none. Concurrent calls
	// never take the same request.
	TakeApproved(ctx context.Context, m Match, since, now time.Time) (*Request, error)
	// FindPending returns the most recent pending request matching m whose
	// ExpiresAt is after now, or nil, nil when there is none.
	FindPending(ctx context.Context, m Match, now time.Time) (*Request, error)
	// ExpireDue marks every pending request whose ExpiresAt is not after
	// now expired (DecidedBy "timeout", DecidedAt now) and returns them;
	// a request is returned by one call only, even across processes.
	ExpireDue(ctx context.Context, now time.Time) ([]*Request, error)
	// Key returns the secret key that argument hashes (Request.ArgsHash)
	// are computed with: KeySize random bytes, generated the first time the
	// store is opened and the same for every later call and every process
	// sharing the store. Callers must not modify the returned slice.
	Key(ctx context.Context) ([]byte, error)
	// Close releases the store's resources.
	Close() error
}

// Match names the calls a request stands for: the same tool, called under
// the same grant by the same subject, with arguments of the same hash
// (Request.ArgsHash). An approval releases only a call that matches it.
type Match struct {
	Tool, Subject, Grant, ArgsHash string
}

// matches reports whether r stands for the calls m names.
func (m Match) matches(r *Request) bool {
	return r.Tool == m.Tool && r.Subject == m.Subject && r.Grant == m.Grant && r.ArgsHash == m.ArgsHash
}

// MatchOf returns the Match of r.
func MatchOf(r *Request) Match {
	return Match{Tool: r.Tool, Subject: r.Subject, Grant: r.Grant, ArgsHash: r.ArgsHash}
}

// KeySize is the length in bytes of a store's argument hash key.
const KeySize = 32

// newKey returns KeySize random bytes.
func newKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k) // never fails (crypto/rand documents it)
	return k
}

// claimer is implemented by this package's stores: claim marks the
// approved request id used, reporting false if it was used already.
type claimer interface {
	claim(ctx context.Context, id string, at time.Time) (bool, error)
}

const defaultLimit = 100

// checkDecision validates the target status of a decision.
func checkDecision(to Status) error {
	switch to {
	case Approved, Denied, Expired:
		return nil
	}
	return fmt.Errorf("approval: cannot decide to status %q", to)
}

// checkNew validates a request given to Store.Create.
func checkNew(r *Request) error {
	if r == nil || r.ID == "" {
		return errors.New("approval: create: request has no ID")
	}
	if !r.Status.valid() {
		return fmt.Errorf("approval: create %s: invalid status %q", r.ID, r.Status)
	}
	return nil
}

// utc drops the monotonic reading and location of t, so that both stores
// return the same values.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.Unix(0, t.UnixNano()).UTC()
}

func newID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	return "apr_" + hex.EncodeToString(b[:])
}

// canonical returns v as JSON with object keys sorted at every depth and
// no HTML escaping; a nil map is "{}".
func canonical(args map[string]any) ([]byte, error) {
	if args == nil {
		return []byte("{}"), nil
	}
	v, err := generic(args)
	if err != nil {
		return nil, err
	}
	return encode(v)
}

// generic round-trips v through JSON into maps, slices, strings, bools,
// nil and json.Number, so that any Go value is walked the same way.
func generic(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil { // map keys are sorted by encoding/json
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// HashArgs returns the HMAC-SHA256 hex, under key, of the canonical
// (sorted-key) JSON of args, as stored in Request.ArgsHash; it lets a retry
// of an approved call be matched to its approval without storing the
// arguments. The hash is keyed because arguments carry passwords and
// tokens (redacted in Request.Args): a plain digest would let anyone who
// reads the store test guesses of them offline. The key is the store's
// (Store.Key). Requests stored before hashes were keyed hold a plain
// SHA-256 and simply never match a retry again.
func HashArgs(key []byte, args map[string]any) (string, error) {
	if len(key) == 0 {
		return "", errors.New("approval: hash arguments: empty key")
	}
	b, err := canonical(args)
	if err != nil {
		return "", fmt.Errorf("approval: hash arguments: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(b) // a hash.Hash never returns an error
	return hex.EncodeToString(mac.Sum(nil)), nil
}

// Redacted replaces the value of a secret (redact.Marker).
const Redacted = redact.Marker

// IsSecretKey reports whether an argument named key holds a secret; see
// redact.IsSecretKey, which it calls.
func IsSecretKey(key string) bool { return redact.IsSecretKey(key) }

// Redact returns args as JSON with secrets masked by the redact package's
// default rules (key names at any depth, credential-shaped values): keys
// sorted, a nil map as "{}", arguments that cannot be encoded as JSON as
// {"error":"[UNENCODABLE]"}. It is redact.Args, kept here for callers
// that have no policy rule's pointers; Manager.Request applies those.
func Redact(args map[string]any) json.RawMessage { return redact.Args(args) }
