package directory

import (
	"context"
	"fmt"
)

// DemoPassword is the password of the demo users Seed creates that have
// one.
const DemoPassword = "correct-horse-battery-staple"

// DemoTOTPSecret is the TOTP secret of the demo user user_demo_margaret.
const DemoTOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

func ptr[T any](v T) *T { return &v }

// demoUsers are the users Seed creates, with fixed ids so that examples
// can name them.
func demoUsers() []CreateUserParams {
	return []CreateUserParams{
		{id: "user_demo_ada", EmailAddresses: []string{"ada@example.com"}, Username: ptr("ada_lovelace"),
			FirstName: ptr("Ada"), LastName: ptr("Lovelace"), ExternalID: ptr("crm-1001"), Locale: ptr("en-GB"),
			Password: ptr(DemoPassword), PublicMetadata: map[string]any{"plan": "pro", "team": "engines"},
			PrivateMetadata: map[string]any{"stripe_customer": "cus_demo1001"}, CreatedAt: ptr("2024-01-15T09:30:00Z")},
		{id: "user_demo_grace", EmailAddresses: []string{"grace@example.com", "grace.hopper@navy.example"},
			PhoneNumbers: []string{"+15555550101"}, Username: ptr("grace_hopper"), FirstName: ptr("Grace"), LastName: ptr("Hopper"),
			ExternalID: ptr("crm-1002"), Locale: ptr("en-US"), Password: ptr(DemoPassword),
			PublicMetadata: map[string]any{"plan": "enterprise", "role": "admin"}, CreatedAt: ptr("2024-02-03T14:00:00Z")},
		{id: "user_demo_alan", EmailAddresses: []string{"alan@example.com"}, FirstName: ptr("Alan"), LastName: ptr("Turing"),
			ExternalID: ptr("crm-1003"), PublicMetadata: map[string]any{"plan": "free"}, CreatedAt: ptr("2024-03-21T08:15:00Z")},
		{id: "user_demo_katherine", PhoneNumbers: []string{"+15555550102"}, Username: ptr("katherine"),
			FirstName: ptr("Katherine"), LastName: ptr("Johnson"), Locale: ptr("en-US"),
			PublicMetadata: map[string]any{"plan": "pro"}, CreatedAt: ptr("2024-04-10T16:45:00Z")},
		{id: "user_demo_margaret", EmailAddresses: []string{"margaret@example.com"}, Username: ptr("margaret"),
			FirstName: ptr("Margaret"), LastName: ptr("Hamilton"), ExternalID: ptr("crm-1005"), Password: ptr(DemoPassword),
			TOTPSecret: ptr(DemoTOTPSecret), PublicMetadata: map[string]any{"plan": "enterprise", "team": "apollo"},
			CreatedAt: ptr("2024-05-01T12:00:00Z")},
		{id: "user_demo_linus", EmailAddresses: []string{"linus@example.com"}, Web3Wallets: []string{"0x52908400098527886e0f7030069857d2e4169ee7"},
			FirstName: ptr("Linus"), LastName: ptr("Torvalds"), ExternalID: ptr("crm-1006"), Locked: ptr(true),
			PublicMetadata: map[string]any{"plan": "free"}, CreatedAt: ptr("2024-06-12T10:20:00Z")},
	}
}

// Seed fills an empty store with a handful of realistic demo users (ids
// user_demo_ada, user_demo_grace, ...; DemoPassword where they have a
// password), each with an active session. It does nothing when the store
// already holds users, and returns how many users it created.
func Seed(ctx context.Context, store Store) (int, error) {
	svc := NewService(store, nil)
	n, err := svc.CountUsers(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("directory: seed: %w", err)
	}
	if n > 0 {
		return 0, nil
	}
	created := 0
	for _, p := range demoUsers() {
		u, err := svc.CreateUser(ctx, p)
		if err != nil {
			return created, fmt.Errorf("directory: seed %s: %w", p.id, err)
		}
		created++
		if _, err := svc.CreateSession(ctx, u.ID); err != nil {
			return created, fmt.Errorf("directory: seed session of %s: %w", u.ID, err)
		}
	}
	return created, nil
}
