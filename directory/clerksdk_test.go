package directory_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/emailaddress"
	"github.com/clerk/clerk-sdk-go/v2/phonenumber"
	"github.com/clerk/clerk-sdk-go/v2/user"
)

// clerkClients returns clerk-sdk-go v2.4.2 clients pointed at the live
// directory (base URL with /v1, as the SDK expects).
func clerkClients(e *env, key string) (*user.Client, *emailaddress.Client, *phonenumber.Client) {
	cfg := func() *clerk.ClientConfig {
		return &clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
			URL: clerk.String(e.srv.URL + "/v1"), Key: clerk.String(key), HTTPClient: e.srv.Client(),
		}}
	}
	return user.NewClient(cfg()), emailaddress.NewClient(cfg()), phonenumber.NewClient(cfg())
}

func apiErr(t *testing.T, err error) *clerk.APIErrorResponse {
	t.Helper()
	var ae *clerk.APIErrorResponse
	if !errors.As(err, &ae) {
		t.Fatalf("error is not a *clerk.APIErrorResponse: %T %v", err, err)
	}
	if ae.TraceID == "" || len(ae.Errors) != 1 {
		t.Errorf("incomplete API error: %+v", ae)
	}
	return ae
}

// TestClerkSDK drives the directory with the real clerk-sdk-go v2.4.2.
func TestClerkSDK(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	users, emails, phones := clerkClients(e, testSK)

	meta := json.RawMessage(`{"plan":"pro","nested":{"a":1}}`)
	u, err := users.Create(ctx, &user.CreateParams{
		EmailAddresses: &[]string{"sdk@example.com"}, FirstName: clerk.String("Sdk"), LastName: clerk.String("User"),
		Username: clerk.String("sdk_user"), ExternalID: clerk.String("sdk-ext-1"), Password: clerk.String("sdk-unique-password"),
		PublicMetadata: &meta,
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if u.Object != "user" || u.FirstName == nil || *u.FirstName != "Sdk" || len(u.EmailAddresses) != 1 ||
		u.EmailAddresses[0].EmailAddress != "sdk@example.com" || !u.PasswordEnabled || u.PrimaryEmailAddressID == nil {
		t.Fatalf("Create returned %+v", u)
	}
	if u.EmailAddresses[0].Verification == nil || u.EmailAddresses[0].Verification.Status != "verified" || u.EmailAddresses[0].LinkedTo == nil {
		t.Errorf("email address: %+v", u.EmailAddresses[0])
	}
	for i := range 3 {
		if _, err := users.Create(ctx, &user.CreateParams{EmailAddresses: &[]string{"other" + string(rune('a'+i)) + "@example.com"}}); err != nil {
			t.Fatalf("Create other: %v", err)
		}
	}

	got, err := users.Get(ctx, u.ID)
	if err != nil || got.ID != u.ID || got.Username == nil || *got.Username != "sdk_user" {
		t.Fatalf("Get: %+v %v", got, err)
	}

	list, err := users.List(ctx, &user.ListParams{ListParams: clerk.ListParams{Limit: clerk.Int64(2)}, OrderBy: clerk.String("+created_at")})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if list.TotalCount != 4 || len(list.Users) != 2 || list.Users[0].ID != u.ID {
		t.Errorf("List: total %d, %d users", list.TotalCount, len(list.Users))
	}
	list, err = users.List(ctx, &user.ListParams{EmailAddresses: []string{"sdk@example.com"}})
	if err != nil || list.TotalCount != 1 || len(list.Users) != 1 {
		t.Errorf("List by email: %+v %v", list, err)
	}
	count, err := users.Count(ctx, &user.ListParams{Query: clerk.String("other")})
	if err != nil || count.TotalCount != 3 {
		t.Errorf("Count: %+v %v", count, err)
	}

	up, err := users.Update(ctx, u.ID, &user.UpdateParams{
		FirstName: clerk.String("Updated"), Password: clerk.String("sdk-newer-password"),
		SignOutOfOtherSessions: clerk.Bool(true), CreateOrganizationsLimit: ptr(3),
		LegalAcceptedAt: clerk.String("2024-05-06T07:08:09Z"),
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if *up.FirstName != "Updated" || up.CreateOrganizationsLimit == nil || *up.CreateOrganizationsLimit != 3 ||
		up.LegalAcceptedAt == nil || *up.LegalAcceptedAt != 1714979289000 {
		t.Errorf("Update returned %+v", up)
	}

	_, err = users.Update(ctx, u.ID, &user.UpdateParams{Password: clerk.String("short")})
	if ae := apiErr(t, err); ae.HTTPStatusCode != 422 || ae.Errors[0].Code != "form_password_length_too_short" {
		t.Errorf("short password: %+v", ae)
	}
	_, err = users.Update(ctx, u.ID, &user.UpdateParams{Password: clerk.String("password")})
	if ae := apiErr(t, err); ae.HTTPStatusCode != 422 || ae.Errors[0].Code != "form_password_pwned" {
		t.Errorf("pwned password: %+v", ae)
	}
	_, err = users.Update(ctx, u.ID, &user.UpdateParams{ExternalID: clerk.String("sdk-ext-1"), Username: clerk.String("sdk_user")})
	if err != nil {
		t.Errorf("re-setting own identifiers: %v", err)
	}
	_, err = users.Update(ctx, "user_missing", &user.UpdateParams{FirstName: clerk.String("x")})
	if ae := apiErr(t, err); ae.HTTPStatusCode != 404 || ae.Errors[0].Code != "resource_not_found" || ae.Errors[0].LongMessage != "No user was found with id user_missing" {
		t.Errorf("unknown user: %+v", ae.Errors[0])
	}

	patch := json.RawMessage(`{"nested":{"b":2,"a":null},"plan":null,"added":true}`)
	md, err := users.UpdateMetadata(ctx, u.ID, &user.UpdateMetadataParams{PublicMetadata: &patch})
	if err != nil {
		t.Fatalf("UpdateMetadata: %v", err)
	}
	var pub map[string]any
	if err := json.Unmarshal(md.PublicMetadata, &pub); err != nil || len(pub) != 2 || pub["added"] != true {
		t.Errorf("UpdateMetadata: %s", md.PublicMetadata)
	}
	if n, _ := pub["nested"].(map[string]any); len(n) != 1 || n["b"] != 2.0 {
		t.Errorf("nested merge: %v", pub["nested"])
	}

	ok, err := users.VerifyPassword(ctx, &user.VerifyPasswordParams{UserID: u.ID, Password: "sdk-newer-password"})
	if err != nil || !ok.Verified {
		t.Errorf("VerifyPassword: %+v %v", ok, err)
	}
	_, err = users.VerifyPassword(ctx, &user.VerifyPasswordParams{UserID: u.ID, Password: "sdk-unique-password"})
	if ae := apiErr(t, err); ae.HTTPStatusCode != 422 || ae.Errors[0].Code != "form_password_incorrect" {
		t.Errorf("VerifyPassword wrong: %+v", ae)
	}

	b, err := users.Ban(ctx, u.ID)
	if err != nil || !b.Banned {
		t.Errorf("Ban: %+v %v", b, err)
	}
	if b, err = users.Unban(ctx, u.ID); err != nil || b.Banned {
		t.Errorf("Unban: %v", err)
	}
	l, err := users.Lock(ctx, u.ID)
	if err != nil || !l.Locked {
		t.Errorf("Lock: %+v %v", l, err)
	}
	if l, err = users.Unlock(ctx, u.ID); err != nil || l.Locked {
		t.Errorf("Unlock: %v", err)
	}

	ea, err := emails.Create(ctx, &emailaddress.CreateParams{UserID: clerk.String(u.ID), EmailAddress: clerk.String("sdk2@example.com"), Verified: clerk.Bool(true)})
	if err != nil || ea.EmailAddress != "sdk2@example.com" || ea.Verification.Status != "verified" {
		t.Fatalf("email Create: %+v %v", ea, err)
	}
	up, err = users.Update(ctx, u.ID, &user.UpdateParams{PrimaryEmailAddressID: clerk.String(ea.ID), NotifyPrimaryEmailAddressChanged: clerk.Bool(true)})
	if err != nil || *up.PrimaryEmailAddressID != ea.ID {
		t.Errorf("primary email: %v", err)
	}
	if ea, err = emails.Update(ctx, ea.ID, &emailaddress.UpdateParams{Verified: clerk.Bool(true)}); err != nil {
		t.Errorf("email Update: %v", err)
	}
	if got, err := emails.Get(ctx, ea.ID); err != nil || got.ID != ea.ID {
		t.Errorf("email Get: %v", err)
	}
	_, err = emails.Create(ctx, &emailaddress.CreateParams{UserID: clerk.String(u.ID), EmailAddress: clerk.String("OTHERA@example.com")})
	if ae := apiErr(t, err); ae.Errors[0].Code != "form_identifier_exists" {
		t.Errorf("taken email: %+v", ae.Errors[0])
	}
	pn, err := phones.Create(ctx, &phonenumber.CreateParams{UserID: clerk.String(u.ID), PhoneNumber: clerk.String("+15555550177"), Verified: clerk.Bool(true)})
	if err != nil || pn.PhoneNumber != "+15555550177" {
		t.Errorf("phone Create: %+v %v", pn, err)
	}

	del, err := users.Delete(ctx, u.ID)
	if err != nil || !del.Deleted || del.ID != u.ID || del.Object != "user" {
		t.Errorf("Delete: %+v %v", del, err)
	}
	_, err = users.Get(ctx, u.ID)
	if ae := apiErr(t, err); ae.HTTPStatusCode != 404 {
		t.Errorf("Get after delete: %+v", ae)
	}

	// A wrong key is a 401 the SDK reports as an API error.
	bad, _, _ := clerkClients(e, "sk_test_wrong")
	_, err = bad.Get(ctx, "user_x")
	if ae := apiErr(t, err); ae.HTTPStatusCode != 401 || ae.Errors[0].Code != "clerk_key_invalid" {
		t.Errorf("wrong key: %+v", ae)
	}
}
