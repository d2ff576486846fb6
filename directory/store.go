package directory

import (
	"context"
	"errors"
)

// ErrNotFound is returned by a Tx when the row asked for does not exist.
var ErrNotFound = errors.New("directory: not found")

// Store keeps the directory's data. Every read runs in View and every
// write in Update, each in one transaction: a Store must make Update
// transactions serializable (SQLite: one writer at a time; PostgreSQL:
// SELECT ... FOR UPDATE or SERIALIZABLE), so that a read-modify-write in
// Update loses nothing under concurrency.
//
// A Tx must enforce uniqueness of external IDs, usernames and email
// addresses (case-insensitively), phone numbers and web3 wallets, and
// report a violation as an *Error with code form_identifier_exists.
type Store interface {
	View(ctx context.Context, fn func(Tx) error) error
	Update(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx is one transaction of a Store. Methods return ErrNotFound (wrapped or
// not) when the object does not exist.
type Tx interface {
	// User returns the user with its identifiers and secrets.
	User(ctx context.Context, id string) (*User, error)
	// InsertUser inserts u and its email addresses, phone numbers and web3
	// wallets.
	InsertUser(ctx context.Context, u *User) error
	// SaveUser writes u's own fields (not its identifiers).
	SaveUser(ctx context.Context, u *User) error
	// DeleteUser deletes the user and everything that belongs to it.
	DeleteUser(ctx context.Context, id string) error
	// ListUsers returns the users q selects, in q's order and page.
	ListUsers(ctx context.Context, q *UserQuery) ([]*User, error)
	// CountUsers counts the users q selects, ignoring its paging.
	CountUsers(ctx context.Context, q *UserQuery) (int64, error)

	EmailAddress(ctx context.Context, id string) (*EmailAddress, error)
	InsertEmailAddress(ctx context.Context, e *EmailAddress) error
	SaveEmailAddress(ctx context.Context, e *EmailAddress) error
	DeleteEmailAddress(ctx context.Context, id string) error

	PhoneNumber(ctx context.Context, id string) (*PhoneNumber, error)
	InsertPhoneNumber(ctx context.Context, p *PhoneNumber) error
	SavePhoneNumber(ctx context.Context, p *PhoneNumber) error
	DeletePhoneNumber(ctx context.Context, id string) error

	InsertSession(ctx context.Context, s *Session) error
	// Sessions lists the sessions of userID ("" for all), newest first.
	Sessions(ctx context.Context, userID, status string) ([]*Session, error)
	// RevokeSessions marks every active session of userID revoked and
	// returns how many it revoked.
	RevokeSessions(ctx context.Context, userID string, at int64) (int, error)

	AppendNotification(ctx context.Context, n *Notification) error
	// Notifications lists the outbox, oldest first; userID "" for all.
	Notifications(ctx context.Context, userID string, limit int) ([]*Notification, error)
}

// UserQuery selects users for ListUsers and CountUsers. Empty fields select
// everything.
type UserQuery struct {
	EmailAddresses []string
	PhoneNumbers   []string
	Usernames      []string
	Web3Wallets    []string
	// ExternalIDs and UserIDs may carry a "-" prefix that excludes the
	// value (and an optional "+" that includes it).
	ExternalIDs []string
	UserIDs     []string
	// Query is a case-insensitive partial match over emails, phone
	// numbers, usernames, web3 wallets, user IDs and names.
	Query             string
	EmailAddressQuery string
	PhoneNumberQuery  string
	UsernameQuery     string
	NameQuery         string
	Banned            *bool
	CreatedAtBefore   *int64
	CreatedAtAfter    *int64
	LastActiveAfter   *int64
	LastActiveBefore  *int64
	// OrderBy is a field of Clerk's order_by with its "+" or "-" prefix.
	OrderBy string
	Limit   int
	Offset  int
}
