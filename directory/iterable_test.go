package directory_test

import (
	"fmt"
	"testing"
)

func TestIterable(t *testing.T) {
	e := newEnv(t)
	key := map[string]string{"Api-Key": testKey}
	update := func(body string) *response {
		t.Helper()
		return e.doWith("POST", "/api/users/update", body, key)
	}
	getUser := func(path string) map[string]any {
		t.Helper()
		r := e.doWith("GET", path, nil, key)
		if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		m := r.json(t)
		u, _ := m["user"].(map[string]any)
		return u
	}

	// By email: the user is created.
	r := update(`{"email":"Iter@Example.com","dataFields":{"firstName":"Ita","plan":"pro","prefs":{"email":true,"sms":false}}}`)
	if r.status != 200 || string(r.body) != `{"msg":"","code":"Success","params":null}` {
		t.Fatalf("update by email: %d %s", r.status, r.body)
	}
	u := getUser("/api/users/getByEmail?email=iter@example.com")
	if u == nil || u["email"] != "iter@example.com" {
		t.Fatalf("getByEmail: %v", u)
	}
	df := u["dataFields"].(map[string]any)
	if df["firstName"] != "Ita" || df["plan"] != "pro" || df["signupDate"] == nil {
		t.Errorf("dataFields: %v", df)
	}
	// The same user through the Clerk API.
	list := decodeArray(t, e.do("GET", "/v1/users?email_address=iter@example.com", nil).body)
	if len(list) != 1 || list[0]["first_name"] != "Ita" || fmt.Sprint(list[0]["public_metadata"]) != "map[plan:pro prefs:map[email:true sms:false]]" {
		t.Fatalf("clerk view: %v", list)
	}
	clerkID := list[0]["id"].(string)

	// Email and userId: userId is set; nested objects replace...
	update(`{"email":"iter@example.com","userId":"iter-42","dataFields":{"prefs":{"push":true}}}`)
	u = getUser("/api/users/byUserId/iter-42")
	if u == nil || u["userId"] != "iter-42" || fmt.Sprint(u["dataFields"].(map[string]any)["prefs"]) != "map[push:true]" {
		t.Errorf("byUserId after replace: %v", u)
	}
	// ...unless mergeNestedObjects; a null value is kept as null.
	update(`{"userId":"iter-42","mergeNestedObjects":true,"dataFields":{"prefs":{"email":false},"plan":null}}`)
	u = getUser("/api/users/byUserId/" + clerkID)
	df = u["dataFields"].(map[string]any)
	if fmt.Sprint(df["prefs"]) != "map[email:false push:true]" || df["plan"] != nil {
		t.Errorf("merge: %v", df)
	}
	if _, ok := df["plan"]; !ok {
		t.Errorf("null dropped the field: %v", df)
	}

	// By userId alone: created only with preferUserId.
	r = update(`{"userId":"new-user-1","dataFields":{"a":1}}`)
	if r.status != 400 || r.json(t)["code"] != "BadParams" {
		t.Errorf("unknown userId without preferUserId: %d %s", r.status, r.body)
	}
	if r = update(`{"userId":"new-user-1","preferUserId":true,"dataFields":{"a":1}}`); r.status != 200 {
		t.Errorf("preferUserId: %d %s", r.status, r.body)
	}
	if u = getUser("/api/users/byUserId/new-user-1"); u == nil || u["dataFields"].(map[string]any)["a"] != 1.0 {
		t.Errorf("created by userId: %v", u)
	}

	// Unknown users are {}.
	if u = getUser("/api/users/getByEmail?email=nobody@example.com"); u != nil {
		t.Errorf("unknown email: %v", u)
	}
	if u = getUser("/api/users/byUserId/nobody"); u != nil {
		t.Errorf("unknown userId: %v", u)
	}

	bad := []struct{ body, code string }{
		{`{}`, "BadParams"},
		{`{"dataFields":{"a":1}}`, "BadParams"},
		{`{"email":"not-an-email"}`, "InvalidEmailAddressError"},
		{`{"email":"a@example.com","dataFields":"x"}`, "BadParams"},
		{`{"email":`, "BadJsonBody"},
		{`{"email":"a@example.com","dataFields":{"firstName":3}}`, "BadParams"},
	}
	for _, b := range bad {
		r := update(b.body)
		if r.status != 400 || r.json(t)["code"] != b.code {
			t.Errorf("%s: %d %s, want 400 %s", b.body, r.status, r.body, b.code)
		}
	}
	// Setting a userId another user has is a conflict.
	r = update(`{"email":"iter@example.com","userId":"new-user-1"}`)
	if r.status != 409 {
		t.Errorf("userId conflict: %d %s", r.status, r.body)
	}
}
