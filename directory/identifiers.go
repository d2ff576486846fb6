package directory

import (
	"context"
	"errors"
)

// CreateIdentifierParams create an email address (POST /v1/email_addresses)
// or a phone number (POST /v1/phone_numbers). Value is the address or
// number. Verified defaults to false; Primary needs Verified.
type CreateIdentifierParams struct {
	UserID   string `json:"user_id"`
	Value    string `json:"-"`
	Verified *bool  `json:"verified,omitempty"`
	Primary  *bool  `json:"primary,omitempty"`
}

// UpdateIdentifierParams update an email address or phone number.
type UpdateIdentifierParams struct {
	Verified *bool `json:"verified,omitempty"`
	Primary  *bool `json:"primary,omitempty"`
}

// identifierKind abstracts over email addresses and phone numbers: their
// names in messages, their parameter, and how to reach them in a
// transaction and on the user.
type identifierKind[T any] struct {
	name, param string
	// short is the noun in "make another address primary first".
	short    string
	validate func(param, value string) (string, error)
	build    func(id, userID, value string, verified bool, now int64) *T
	fields   func(*T) identifierFields
	primary  func(*User) **string // the user's primary-id field
	count    func(*User) int      // how many of this kind the user has
	get      func(Tx, context.Context, string) (*T, error)
	insert   func(Tx, context.Context, *T) error
	save     func(Tx, context.Context, *T) error
	del      func(Tx, context.Context, string) error
}

// identifierFields are the fields an email address and a phone number
// share.
type identifierFields struct {
	ID, UserID *string
	Verified   *bool
	UpdatedAt  *int64
}

var emailKind = identifierKind[EmailAddress]{
	name: "email address", param: "email_address", short: "address",
	validate: normalizeEmail,
	build: func(id, userID, value string, verified bool, now int64) *EmailAddress {
		return &EmailAddress{ID: id, UserID: userID, EmailAddress: value, Verified: verified, CreatedAt: now, UpdatedAt: now}
	},
	fields: func(e *EmailAddress) identifierFields {
		return identifierFields{&e.ID, &e.UserID, &e.Verified, &e.UpdatedAt}
	},
	primary: func(u *User) **string { return &u.PrimaryEmailAddressID },
	count:   func(u *User) int { return len(u.EmailAddresses) },
	get:     Tx.EmailAddress,
	insert:  Tx.InsertEmailAddress,
	save:    Tx.SaveEmailAddress,
	del:     Tx.DeleteEmailAddress,
}

var phoneKind = identifierKind[PhoneNumber]{
	name: "phone number", param: "phone_number", short: "number",
	validate: validatePhone,
	build: func(id, userID, value string, verified bool, now int64) *PhoneNumber {
		return &PhoneNumber{ID: id, UserID: userID, PhoneNumber: value, Verified: verified, CreatedAt: now, UpdatedAt: now}
	},
	fields: func(p *PhoneNumber) identifierFields {
		return identifierFields{&p.ID, &p.UserID, &p.Verified, &p.UpdatedAt}
	},
	primary: func(u *User) **string { return &u.PrimaryPhoneNumberID },
	count:   func(u *User) int { return len(u.PhoneNumbers) },
	get:     Tx.PhoneNumber,
	insert:  Tx.InsertPhoneNumber,
	save:    Tx.SavePhoneNumber,
	del:     Tx.DeletePhoneNumber,
}

func (k *identifierKind[T]) notFound(err error, id string) error {
	if errors.Is(err, ErrNotFound) {
		return errNotFound(k.name, id)
	}
	return err
}

// CreateEmailAddress adds an email address to a user.
func (s *Service) CreateEmailAddress(ctx context.Context, p CreateIdentifierParams) (*EmailAddress, error) {
	return emailKind.create(ctx, s, p)
}

// GetEmailAddress returns an email address by id.
func (s *Service) GetEmailAddress(ctx context.Context, id string) (*EmailAddress, error) {
	return emailKind.getByID(ctx, s, id)
}

// UpdateEmailAddress marks an email address verified or not, or primary.
// The primary address cannot be unverified; an unverified one cannot
// become primary.
func (s *Service) UpdateEmailAddress(ctx context.Context, id string, p UpdateIdentifierParams) (*EmailAddress, error) {
	return emailKind.update(ctx, s, id, p)
}

// DeleteEmailAddress deletes an email address. The primary address cannot
// be deleted while the user has other email addresses (make one of them
// primary first), and the last identifier of a user cannot be deleted.
func (s *Service) DeleteEmailAddress(ctx context.Context, id string) (*DeletedObject, error) {
	return emailKind.delete(ctx, s, id)
}

// CreatePhoneNumber adds a phone number (E.164) to a user.
func (s *Service) CreatePhoneNumber(ctx context.Context, p CreateIdentifierParams) (*PhoneNumber, error) {
	return phoneKind.create(ctx, s, p)
}

// GetPhoneNumber returns a phone number by id.
func (s *Service) GetPhoneNumber(ctx context.Context, id string) (*PhoneNumber, error) {
	return phoneKind.getByID(ctx, s, id)
}

// UpdatePhoneNumber marks a phone number verified or not, or primary.
func (s *Service) UpdatePhoneNumber(ctx context.Context, id string, p UpdateIdentifierParams) (*PhoneNumber, error) {
	return phoneKind.update(ctx, s, id, p)
}

// DeletePhoneNumber deletes a phone number, with the rules of
// DeleteEmailAddress.
func (s *Service) DeletePhoneNumber(ctx context.Context, id string) (*DeletedObject, error) {
	return phoneKind.delete(ctx, s, id)
}

func (k *identifierKind[T]) create(ctx context.Context, s *Service, p CreateIdentifierParams) (*T, error) {
	if p.UserID == "" {
		return nil, errMissing("user_id")
	}
	if p.Value == "" {
		return nil, errMissing(k.param)
	}
	value, err := k.validate(k.param, p.Value)
	if err != nil {
		return nil, err
	}
	verified, primary := deref(p.Verified), deref(p.Primary)
	if primary && !verified {
		return nil, errValue("primary", "Only a verified %s can be primary.", k.name)
	}
	now := s.nowMillis()
	x := k.build(newID("idn"), p.UserID, value, verified, now)
	_, err = s.modify(ctx, p.UserID, func(tx Tx, u *User) error {
		if err := k.insert(tx, ctx, x); err != nil {
			return err
		}
		if pid := k.primary(u); primary || *pid == nil && verified {
			*pid = k.fields(x).ID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

func (k *identifierKind[T]) getByID(ctx context.Context, s *Service, id string) (*T, error) {
	var x *T
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		x, err = k.get(tx, ctx, id)
		return err
	})
	if err != nil {
		return nil, k.notFound(err, id)
	}
	return x, nil
}

func (k *identifierKind[T]) update(ctx context.Context, s *Service, id string, p UpdateIdentifierParams) (*T, error) {
	var out *T
	err := s.store.Update(ctx, func(tx Tx) error {
		x, err := k.get(tx, ctx, id)
		if err != nil {
			return k.notFound(err, id)
		}
		f := k.fields(x)
		u, err := tx.User(ctx, *f.UserID)
		if err != nil {
			return err
		}
		pid := k.primary(u)
		isPrimary := *pid != nil && **pid == *f.ID
		if p.Verified != nil {
			if !*p.Verified && isPrimary {
				return errValue("verified", "The primary %s cannot be marked unverified.", k.name)
			}
			*f.Verified = *p.Verified
		}
		now := s.nowMillis()
		*f.UpdatedAt = now
		if err := k.save(tx, ctx, x); err != nil {
			return err
		}
		if p.Primary != nil && *p.Primary && !isPrimary {
			if !*f.Verified {
				return errValue("primary", "Only a verified %s can be primary.", k.name)
			}
			*pid = f.ID
			u.UpdatedAt = now
			if err := tx.SaveUser(ctx, u); err != nil {
				return err
			}
		}
		out = x
		return nil
	})
	return out, err
}

func (k *identifierKind[T]) delete(ctx context.Context, s *Service, id string) (*DeletedObject, error) {
	err := s.store.Update(ctx, func(tx Tx) error {
		x, err := k.get(tx, ctx, id)
		if err != nil {
			return k.notFound(err, id)
		}
		u, err := tx.User(ctx, *k.fields(x).UserID)
		if err != nil {
			return err
		}
		if pid := k.primary(u); *pid != nil && **pid == id {
			if k.count(u) > 1 {
				return errValue(k.param+"_id", "The primary %s cannot be deleted; make another %s primary first.", k.name, k.short)
			}
			*pid = nil
			if err := tx.SaveUser(ctx, u); err != nil {
				return err
			}
		}
		if u.identifierCount() <= 1 {
			return errValue(k.param+"_id", "The last identifier of a user cannot be deleted.")
		}
		return k.del(tx, ctx, id)
	})
	if err != nil {
		return nil, err
	}
	return &DeletedObject{Object: k.param, ID: id, Deleted: true}, nil
}

func deref(b *bool) bool { return b != nil && *b }
