package directory

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/toolgate/toolgate/internal/sqlitedb"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// SQLite is a Store in one SQLite database file (modernc.org/sqlite, no
// cgo) in WAL mode. Writes go through a single connection whose
// transactions begin IMMEDIATE, so they are serialized and never fail on a
// lock upgrade; reads use a pool of query-only connections that WAL lets
// run beside the writer.
type SQLite struct {
	path string
	db   *sqlitedb.DB // nil until Open
}

var _ Store = (*SQLite)(nil)

// NewSQLite returns a store for the database file at path. It does no I/O:
// call Open.
func NewSQLite(path string) *SQLite { return &SQLite{path: path} }

// Open creates the database at path if needed, applies the migrations and
// returns the open store.
func Open(ctx context.Context, path string) (*SQLite, error) {
	s := NewSQLite(path)
	if err := s.Open(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Open opens the database and applies the embedded migrations.
func (s *SQLite) Open(ctx context.Context) error {
	db, err := sqlitedb.Open(ctx, s.path, sqlitedb.Options{
		Component:       "directory",
		ForeignKeys:     true,
		Migrations:      migrations,
		MigrationsTable: "schema_migrations",
	})
	if err != nil {
		return err
	}
	s.db = db
	return nil
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// View runs fn in a read-only transaction.
func (s *SQLite) View(ctx context.Context, fn func(Tx) error) error {
	if s.db == nil {
		return errNotOpen
	}
	return s.db.View(ctx, func(tx *sql.Tx) error { return fn(&sqliteTx{tx: tx}) })
}

// Update runs fn in a write transaction, committed when fn returns nil.
func (s *SQLite) Update(ctx context.Context, fn func(Tx) error) error {
	if s.db == nil {
		return errNotOpen
	}
	return s.db.Update(ctx, func(tx *sql.Tx) error { return fn(&sqliteTx{tx: tx}) })
}

var errNotOpen = errors.New("directory: store is not open")

type sqliteTx struct{ tx *sql.Tx }

// conflict turns a unique-constraint violation into form_identifier_exists
// naming the parameter; other errors are wrapped with what.
func conflict(err error, what string) error {
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		msg := se.Error()
		for _, col := range []string{"email_address", "phone_number", "web3_wallet", "username", "external_id"} {
			if strings.Contains(msg, "."+col) {
				return errExists(col)
			}
		}
		return errExists("id")
	}
	return fmt.Errorf("directory: %s: %w", what, err)
}

const userColumns = `id, external_id, username, first_name, last_name, locale, profile_image_id,
	primary_email_address_id, primary_phone_number_id, primary_web3_wallet_id,
	public_metadata, private_metadata, unsafe_metadata, banned, locked, delete_self_enabled,
	create_organization_enabled, create_organizations_limit, bypass_client_trust,
	legal_accepted_at, last_sign_in_at, last_active_at, password_last_updated_at,
	mfa_enabled_at, mfa_disabled_at, password_digest, password_hasher,
	password_pending_migration, totp_secret, backup_codes, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(sc scanner) (*User, error) {
	u := &User{}
	var ext, uname, first, last, locale, img, pe, pp, pw sql.NullString
	var pub, priv, unsafe, codes string
	var limit, legal, signIn, active, pwAt, mfaOn, mfaOff sql.NullInt64
	err := sc.Scan(&u.ID, &ext, &uname, &first, &last, &locale, &img, &pe, &pp, &pw,
		&pub, &priv, &unsafe, &u.Banned, &u.Locked, &u.DeleteSelfEnabled,
		&u.CreateOrganizationEnabled, &limit, &u.BypassClientTrust,
		&legal, &signIn, &active, &pwAt, &mfaOn, &mfaOff,
		&u.Secrets.PasswordDigest, &u.Secrets.PasswordHasher, &u.Secrets.PendingMigration,
		&u.Secrets.TOTPSecret, &codes, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return nil, err
	}
	u.ExternalID, u.Username, u.FirstName, u.LastName = strPtr(ext), strPtr(uname), strPtr(first), strPtr(last)
	u.Locale, u.ProfileImageID = strPtr(locale), strPtr(img)
	u.PrimaryEmailAddressID, u.PrimaryPhoneNumberID, u.PrimaryWeb3WalletID = strPtr(pe), strPtr(pp), strPtr(pw)
	if limit.Valid {
		n := int(limit.Int64)
		u.CreateOrganizationsLimit = &n
	}
	u.LegalAcceptedAt, u.LastSignInAt, u.LastActiveAt = intPtr(legal), intPtr(signIn), intPtr(active)
	u.PasswordLastUpdatedAt, u.MFAEnabledAt, u.MFADisabledAt = intPtr(pwAt), intPtr(mfaOn), intPtr(mfaOff)
	if u.PublicMetadata, err = decodeObject(pub); err != nil {
		return nil, err
	}
	if u.PrivateMetadata, err = decodeObject(priv); err != nil {
		return nil, err
	}
	if u.UnsafeMetadata, err = decodeObject(unsafe); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(codes), &u.Secrets.BackupCodes); err != nil {
		return nil, fmt.Errorf("backup codes: %w", err)
	}
	return u, nil
}

func strPtr(n sql.NullString) *string {
	if !n.Valid {
		return nil
	}
	return &n.String
}

func intPtr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}

func decodeObject(s string) (map[string]any, error) {
	m := map[string]any{}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func encodeObject(m map[string]any) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func userArgs(u *User) ([]any, error) {
	pub, err := encodeObject(u.PublicMetadata)
	if err != nil {
		return nil, err
	}
	priv, err := encodeObject(u.PrivateMetadata)
	if err != nil {
		return nil, err
	}
	unsafe, err := encodeObject(u.UnsafeMetadata)
	if err != nil {
		return nil, err
	}
	codes := u.Secrets.BackupCodes
	if codes == nil {
		codes = []string{}
	}
	cb, err := json.Marshal(codes)
	if err != nil {
		return nil, err
	}
	var limit any
	if u.CreateOrganizationsLimit != nil {
		limit = *u.CreateOrganizationsLimit
	}
	return []any{u.ID, u.ExternalID, u.Username, u.FirstName, u.LastName, u.Locale, u.ProfileImageID,
		u.PrimaryEmailAddressID, u.PrimaryPhoneNumberID, u.PrimaryWeb3WalletID,
		pub, priv, unsafe, u.Banned, u.Locked, u.DeleteSelfEnabled,
		u.CreateOrganizationEnabled, limit, u.BypassClientTrust,
		u.LegalAcceptedAt, u.LastSignInAt, u.LastActiveAt, u.PasswordLastUpdatedAt,
		u.MFAEnabledAt, u.MFADisabledAt, u.Secrets.PasswordDigest, u.Secrets.PasswordHasher,
		u.Secrets.PendingMigration, u.Secrets.TOTPSecret, string(cb), u.CreatedAt, u.UpdatedAt}, nil
}

func (t *sqliteTx) User(ctx context.Context, id string) (*User, error) {
	u, err := getRow(ctx, t, scanUser, `SELECT `+userColumns+` FROM users WHERE id = ?`, "user", id)
	if err != nil {
		return nil, err
	}
	if err := t.loadIdentifiers(ctx, []*User{u}); err != nil {
		return nil, err
	}
	return u, nil
}

func (t *sqliteTx) InsertUser(ctx context.Context, u *User) error {
	args, err := userArgs(u)
	if err != nil {
		return fmt.Errorf("directory: insert user: %w", err)
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (`+ph+`)`, args...); err != nil {
		return conflict(err, "insert user")
	}
	for _, e := range u.EmailAddresses {
		if err := t.InsertEmailAddress(ctx, e); err != nil {
			return err
		}
	}
	for _, p := range u.PhoneNumbers {
		if err := t.InsertPhoneNumber(ctx, p); err != nil {
			return err
		}
	}
	for _, w := range u.Web3Wallets {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO web3_wallets (id, user_id, web3_wallet, verified, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			w.ID, w.UserID, w.Web3Wallet, w.Verified, w.CreatedAt, w.UpdatedAt); err != nil {
			return conflict(err, "insert web3 wallet")
		}
	}
	return nil
}

func (t *sqliteTx) SaveUser(ctx context.Context, u *User) error {
	args, err := userArgs(u)
	if err != nil {
		return fmt.Errorf("directory: save user: %w", err)
	}
	cols := strings.Split(userColumns, ",")
	sets := make([]string, 0, len(cols)-1)
	for _, c := range cols[1:] {
		sets = append(sets, strings.TrimSpace(c)+" = ?")
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+` WHERE id = ?`, append(args[1:], u.ID)...)
	if err != nil {
		return conflict(err, "save user")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

func (t *sqliteTx) DeleteUser(ctx context.Context, id string) error {
	return t.deleteRow(ctx, "users", "user", id)
}

// deleteRow deletes the row with id from table; ErrNotFound when there is
// none. what names the object in a wrapped error.
func (t *sqliteTx) deleteRow(ctx context.Context, table, what, id string) error {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("directory: delete %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// getRow returns the one row of query (which takes id) scanned by scan;
// ErrNotFound when there is none. what names the object in a wrapped error.
func getRow[T any](ctx context.Context, t *sqliteTx, scan func(scanner) (*T, error), query, what, id string) (*T, error) {
	x, err := scan(t.tx.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("directory: get %s: %w", what, err)
	}
	return x, nil
}

// loadIdentifiers fills the email addresses, phone numbers and web3
// wallets of users, oldest first.
func (t *sqliteTx) loadIdentifiers(ctx context.Context, users []*User) error {
	if len(users) == 0 {
		return nil
	}
	byID := make(map[string]*User, len(users))
	args := make([]any, len(users))
	for i, u := range users {
		byID[u.ID] = u
		args[i] = u.ID
		u.EmailAddresses, u.PhoneNumbers, u.Web3Wallets = []*EmailAddress{}, []*PhoneNumber{}, []*Web3Wallet{}
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(users)), ",") + ")"
	rows, err := t.tx.QueryContext(ctx, `SELECT `+emailColumns+` FROM email_addresses WHERE user_id IN `+in+` ORDER BY created_at, id`, args...)
	if err != nil {
		return fmt.Errorf("directory: load email addresses: %w", err)
	}
	for rows.Next() {
		e, err := scanEmail(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("directory: load email addresses: %w", err)
		}
		byID[e.UserID].EmailAddresses = append(byID[e.UserID].EmailAddresses, e)
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("directory: load email addresses: %w", err)
	}
	rows, err = t.tx.QueryContext(ctx, `SELECT `+phoneColumns+` FROM phone_numbers WHERE user_id IN `+in+` ORDER BY created_at, id`, args...)
	if err != nil {
		return fmt.Errorf("directory: load phone numbers: %w", err)
	}
	for rows.Next() {
		p, err := scanPhone(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("directory: load phone numbers: %w", err)
		}
		byID[p.UserID].PhoneNumbers = append(byID[p.UserID].PhoneNumbers, p)
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("directory: load phone numbers: %w", err)
	}
	rows, err = t.tx.QueryContext(ctx, `SELECT id, user_id, web3_wallet, verified, created_at, updated_at FROM web3_wallets WHERE user_id IN `+in+` ORDER BY created_at, id`, args...)
	if err != nil {
		return fmt.Errorf("directory: load web3 wallets: %w", err)
	}
	for rows.Next() {
		w := &Web3Wallet{}
		if err := rows.Scan(&w.ID, &w.UserID, &w.Web3Wallet, &w.Verified, &w.CreatedAt, &w.UpdatedAt); err != nil {
			rows.Close()
			return fmt.Errorf("directory: load web3 wallets: %w", err)
		}
		byID[w.UserID].Web3Wallets = append(byID[w.UserID].Web3Wallets, w)
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("directory: load web3 wallets: %w", err)
	}
	return nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	return errors.Join(err, rows.Close())
}

const emailColumns = `id, user_id, email_address, verified, reserved, created_at, updated_at`

func scanEmail(sc scanner) (*EmailAddress, error) {
	e := &EmailAddress{}
	err := sc.Scan(&e.ID, &e.UserID, &e.EmailAddress, &e.Verified, &e.Reserved, &e.CreatedAt, &e.UpdatedAt)
	return e, err
}

const phoneColumns = `id, user_id, phone_number, verified, reserved, reserved_for_second_factor, default_second_factor, created_at, updated_at`

func scanPhone(sc scanner) (*PhoneNumber, error) {
	p := &PhoneNumber{}
	err := sc.Scan(&p.ID, &p.UserID, &p.PhoneNumber, &p.Verified, &p.Reserved, &p.ReservedForSecondFactor, &p.DefaultSecondFactor, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

func (t *sqliteTx) EmailAddress(ctx context.Context, id string) (*EmailAddress, error) {
	return getRow(ctx, t, scanEmail, `SELECT `+emailColumns+` FROM email_addresses WHERE id = ?`, "email address", id)
}

func (t *sqliteTx) InsertEmailAddress(ctx context.Context, e *EmailAddress) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO email_addresses (`+emailColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.UserID, e.EmailAddress, e.Verified, e.Reserved, e.CreatedAt, e.UpdatedAt)
	if err != nil {
		return conflict(err, "insert email address")
	}
	return nil
}

func (t *sqliteTx) SaveEmailAddress(ctx context.Context, e *EmailAddress) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE email_addresses SET email_address = ?, verified = ?, reserved = ?, updated_at = ? WHERE id = ?`,
		e.EmailAddress, e.Verified, e.Reserved, e.UpdatedAt, e.ID)
	if err != nil {
		return conflict(err, "save email address")
	}
	return nil
}

func (t *sqliteTx) DeleteEmailAddress(ctx context.Context, id string) error {
	return t.deleteRow(ctx, "email_addresses", "email address", id)
}

func (t *sqliteTx) PhoneNumber(ctx context.Context, id string) (*PhoneNumber, error) {
	return getRow(ctx, t, scanPhone, `SELECT `+phoneColumns+` FROM phone_numbers WHERE id = ?`, "phone number", id)
}

func (t *sqliteTx) InsertPhoneNumber(ctx context.Context, p *PhoneNumber) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO phone_numbers (`+phoneColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.UserID, p.PhoneNumber, p.Verified, p.Reserved, p.ReservedForSecondFactor, p.DefaultSecondFactor, p.CreatedAt, p.UpdatedAt)
	if err != nil {
		return conflict(err, "insert phone number")
	}
	return nil
}

func (t *sqliteTx) SavePhoneNumber(ctx context.Context, p *PhoneNumber) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE phone_numbers SET phone_number = ?, verified = ?, reserved = ?, reserved_for_second_factor = ?, default_second_factor = ?, updated_at = ? WHERE id = ?`,
		p.PhoneNumber, p.Verified, p.Reserved, p.ReservedForSecondFactor, p.DefaultSecondFactor, p.UpdatedAt, p.ID)
	if err != nil {
		return conflict(err, "save phone number")
	}
	return nil
}

func (t *sqliteTx) DeletePhoneNumber(ctx context.Context, id string) error {
	return t.deleteRow(ctx, "phone_numbers", "phone number", id)
}

const sessionColumns = `id, user_id, client_id, status, last_active_at, expire_at, abandon_at, created_at, updated_at`

func (t *sqliteTx) InsertSession(ctx context.Context, s *Session) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, s.ClientID, s.Status, s.LastActiveAt, s.ExpireAt, s.AbandonAt, s.CreatedAt, s.UpdatedAt)
	if err != nil {
		return fmt.Errorf("directory: insert session: %w", err)
	}
	return nil
}

func (t *sqliteTx) Sessions(ctx context.Context, userID, status string) ([]*Session, error) {
	q := `SELECT ` + sessionColumns + ` FROM sessions WHERE 1 = 1`
	var args []any
	if userID != "" {
		q += ` AND user_id = ?`
		args = append(args, userID)
	}
	if status != "" {
		q += ` AND status = ?`
		args = append(args, status)
	}
	rows, err := t.tx.QueryContext(ctx, q+` ORDER BY created_at DESC, id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("directory: list sessions: %w", err)
	}
	out := []*Session{}
	for rows.Next() {
		s := &Session{Object: "session"}
		if err := rows.Scan(&s.ID, &s.UserID, &s.ClientID, &s.Status, &s.LastActiveAt, &s.ExpireAt, &s.AbandonAt, &s.CreatedAt, &s.UpdatedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("directory: list sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("directory: list sessions: %w", err)
	}
	return out, nil
}

func (t *sqliteTx) RevokeSessions(ctx context.Context, userID string, at int64) (int, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE sessions SET status = 'revoked', updated_at = ? WHERE user_id = ? AND status = 'active'`, at, userID)
	if err != nil {
		return 0, fmt.Errorf("directory: revoke sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t *sqliteTx) AppendNotification(ctx context.Context, n *Notification) error {
	data, err := encodeObject(n.Data)
	if err != nil {
		return fmt.Errorf("directory: append notification: %w", err)
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO outbox (id, kind, user_id, recipient, data, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		n.ID, n.Kind, n.UserID, n.To, data, n.CreatedAt)
	if err != nil {
		return fmt.Errorf("directory: append notification: %w", err)
	}
	return nil
}

func (t *sqliteTx) Notifications(ctx context.Context, userID string, limit int) ([]*Notification, error) {
	q := `SELECT id, kind, user_id, recipient, data, created_at FROM outbox`
	var args []any
	if userID != "" {
		q += ` WHERE user_id = ?`
		args = append(args, userID)
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, limit)
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("directory: list outbox: %w", err)
	}
	out := []*Notification{}
	for rows.Next() {
		n := &Notification{Object: "notification"}
		var data string
		if err := rows.Scan(&n.ID, &n.Kind, &n.UserID, &n.To, &data, &n.CreatedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("directory: list outbox: %w", err)
		}
		if n.Data, err = decodeObject(data); err != nil {
			rows.Close()
			return nil, fmt.Errorf("directory: list outbox: %w", err)
		}
		out = append(out, n)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("directory: list outbox: %w", err)
	}
	return out, nil
}

// orderColumns maps Clerk's order_by fields to SQL.
var orderColumns = map[string]string{
	"created_at":      "u.created_at",
	"updated_at":      "u.updated_at",
	"first_name":      "u.first_name",
	"last_name":       "u.last_name",
	"username":        "u.username",
	"last_active_at":  "u.last_active_at",
	"last_sign_in_at": "u.last_sign_in_at",
	"email_address":   "(SELECT e.email_address FROM email_addresses e WHERE e.id = u.primary_email_address_id)",
	"phone_number":    "(SELECT p.phone_number FROM phone_numbers p WHERE p.id = u.primary_phone_number_id)",
	"web3wallet":      "(SELECT w.web3_wallet FROM web3_wallets w WHERE w.id = u.primary_web3_wallet_id)",
}

func likeArg(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

func inList(col string, vals []string) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",") + ")", args
}

// where builds the WHERE clause of q.
func (q *UserQuery) where() (string, []any) {
	var conds []string
	var args []any
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	sub := func(table, col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		c, a := inList(col, vals)
		add("u.id IN (SELECT user_id FROM "+table+" WHERE "+c+")", a...)
	}
	sub("email_addresses", "email_address", q.EmailAddresses)
	sub("phone_numbers", "phone_number", q.PhoneNumbers)
	sub("web3_wallets", "web3_wallet", q.Web3Wallets)
	if len(q.Usernames) > 0 {
		c, a := inList("u.username", q.Usernames)
		add(c, a...)
	}
	signed := func(col string, vals []string) {
		var inc, exc []string
		for _, v := range vals {
			switch {
			case strings.HasPrefix(v, "-"):
				exc = append(exc, v[1:])
			case strings.HasPrefix(v, "+"):
				inc = append(inc, v[1:])
			default:
				inc = append(inc, v)
			}
		}
		if len(inc) > 0 {
			c, a := inList(col, inc)
			add(c, a...)
		}
		if len(exc) > 0 {
			c, a := inList(col, exc)
			add("("+col+" IS NULL OR NOT "+c+")", a...)
		}
	}
	signed("u.external_id", q.ExternalIDs)
	signed("u.id", q.UserIDs)
	like := func(expr string) string { return expr + ` LIKE ? ESCAPE '\'` }
	if q.Query != "" {
		l := likeArg(q.Query)
		add("("+like("u.id")+" OR "+like("u.username")+" OR "+like("u.first_name")+" OR "+like("u.last_name")+
			" OR "+like("(coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, ''))")+
			" OR u.id IN (SELECT user_id FROM email_addresses WHERE "+like("email_address")+")"+
			" OR u.id IN (SELECT user_id FROM phone_numbers WHERE "+like("phone_number")+")"+
			" OR u.id IN (SELECT user_id FROM web3_wallets WHERE "+like("web3_wallet")+"))",
			l, l, l, l, l, l, l, l)
	}
	if q.EmailAddressQuery != "" {
		add("u.id IN (SELECT user_id FROM email_addresses WHERE "+like("email_address")+")", likeArg(q.EmailAddressQuery))
	}
	if q.PhoneNumberQuery != "" {
		add("u.id IN (SELECT user_id FROM phone_numbers WHERE "+like("phone_number")+")", likeArg(q.PhoneNumberQuery))
	}
	if q.UsernameQuery != "" {
		add(like("u.username"), likeArg(q.UsernameQuery))
	}
	if q.NameQuery != "" {
		l := likeArg(q.NameQuery)
		add("("+like("(coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, ''))")+")", l)
	}
	if q.Banned != nil {
		add("u.banned = ?", *q.Banned)
	}
	if q.CreatedAtBefore != nil {
		add("u.created_at < ?", *q.CreatedAtBefore)
	}
	if q.CreatedAtAfter != nil {
		add("u.created_at > ?", *q.CreatedAtAfter)
	}
	if q.LastActiveAfter != nil {
		add("u.last_active_at > ?", *q.LastActiveAfter)
	}
	if q.LastActiveBefore != nil {
		add("u.last_active_at < ?", *q.LastActiveBefore)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func (t *sqliteTx) ListUsers(ctx context.Context, q *UserQuery) ([]*User, error) {
	where, args := q.where()
	order := q.OrderBy
	if order == "" {
		order = "-created_at"
	}
	dir := "DESC"
	switch order[0] {
	case '+':
		dir, order = "ASC", order[1:]
	case '-':
		order = order[1:]
	}
	col, ok := orderColumns[order]
	if !ok {
		return nil, errValue("order_by", "order_by %q is not a field users can be ordered by.", q.OrderBy)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	var cols []string
	for _, c := range strings.Split(userColumns, ",") {
		cols = append(cols, "u."+strings.TrimSpace(c))
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM users u`+where+
		` ORDER BY `+col+` `+dir+` NULLS LAST, u.id `+dir+` LIMIT ? OFFSET ?`, append(args, limit, q.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("directory: list users: %w", err)
	}
	users := []*User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("directory: list users: %w", err)
		}
		users = append(users, u)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("directory: list users: %w", err)
	}
	if err := t.loadIdentifiers(ctx, users); err != nil {
		return nil, err
	}
	return users, nil
}

func (t *sqliteTx) CountUsers(ctx context.Context, q *UserQuery) (int64, error) {
	where, args := q.where()
	var n int64
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM users u`+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("directory: count users: %w", err)
	}
	return n, nil
}
