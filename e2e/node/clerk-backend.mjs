#!/usr/bin/env node
// Drives the real @clerk/backend SDK (createClerkClient) against a Clerk
// Backend API, e.g. toolgate's directory. Used by internal/e2e's tests.
//
// Usage:
//   node e2e/node/clerk-backend.mjs --api-url http://127.0.0.1:PORT --secret-key sk_test_x [--email ada@example.com]
//
// --api-url is the base WITHOUT /v1 (the SDK appends /v1/users...).
//
// It runs a fixed scenario over one new user and prints one JSON line per
// step:
//   {"step": NAME, "type": CONSTRUCTOR_NAME, "result": VALUE}
// where VALUE is a User's raw JSON (user.raw), a list's {data: [raw...],
// types: [CONSTRUCTOR_NAME...], totalCount}, or the plain value; or
//   {"step": NAME, "error": {"name", "status", "clerkTraceId", "message",
//                            "errors": [{"code", "message", "longMessage", "meta"}]}}
// when the SDK throws (ClerkAPIResponseError for an API error). The exit
// status is 0 unless the script itself breaks (bad arguments).

import { createClerkClient } from "@clerk/backend";

function parseArgs(argv) {
  const opts = { apiUrl: null, secretKey: null, email: "ada.lovelace@example.com" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--api-url") opts.apiUrl = argv[++i];
    else if (a === "--secret-key") opts.secretKey = argv[++i];
    else if (a === "--email") opts.email = argv[++i];
    else {
      console.error(`unknown argument ${a}`);
      process.exit(2);
    }
  }
  if (!opts.apiUrl || !opts.secretKey) {
    console.error("usage: clerk-backend.mjs --api-url URL --secret-key KEY [--email ADDR]");
    process.exit(2);
  }
  return opts;
}

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

// typeOf names what the SDK returned: its class name (the bundler prefixes
// some with "_", e.g. _User), "Object", "string", ...
const typeOf = (v) =>
  v === null ? "null" : typeof v === "object" ? (v.constructor?.name ?? "Object").replace(/^_+/, "") : typeof v;

// view turns an SDK return value into JSON: a resource's raw JSON when it
// has one, a paginated list's pieces, else the value itself.
function view(v) {
  if (v && typeof v === "object") {
    if ("raw" in v && v.raw) return v.raw;
    if (Array.isArray(v.data) && "totalCount" in v) {
      return { data: v.data.map(view), types: v.data.map(typeOf), totalCount: v.totalCount };
    }
  }
  return v;
}

function errorJSON(e) {
  const err = { name: e?.name ?? typeOf(e), message: String(e?.message ?? e) };
  if (e?.status !== undefined) err.status = e.status;
  if (e?.clerkTraceId !== undefined) err.clerkTraceId = e.clerkTraceId;
  if (Array.isArray(e?.errors)) {
    err.errors = e.errors.map((x) => ({ code: x.code, message: x.message, longMessage: x.longMessage, meta: x.meta }));
  }
  return err;
}

async function step(name, fn) {
  try {
    const v = await fn();
    out({ step: name, type: typeOf(v), result: view(v) ?? null });
    return v;
  } catch (e) {
    out({ step: name, error: errorJSON(e) });
    return undefined;
  }
}

const opts = parseArgs(process.argv.slice(2));
const clerk = createClerkClient({ secretKey: opts.secretKey, apiUrl: opts.apiUrl });
const users = clerk.users;

const password = "Tr0ub4dor&3-zebra-quantum";
const created = await step("createUser", () =>
  users.createUser({
    emailAddress: [opts.email],
    firstName: "Ada",
    lastName: "Lovelace",
    username: "ada_lovelace",
    externalId: "ext-ada-1",
    password,
    publicMetadata: { plan: "free", prefs: { theme: "dark", lang: "en" } },
    privateMetadata: { crm: 42 },
  }),
);
const id = created?.id ?? "user_missing";

await step("getUser", () => users.getUser(id));
await step("getUserList.byEmail", () => users.getUserList({ emailAddress: [opts.email] }));
await step("getUserList.page", () => users.getUserList({ limit: 1, offset: 0, orderBy: "-created_at" }));
await step("getUserList.query", () => users.getUserList({ query: "lovelace" }));
await step("getCount", () => users.getCount());

await step("updateUser", () => users.updateUser(id, { firstName: "Augusta", lastName: "King" }));
// With metadata, the SDK sends PATCH /users/{id} (the rest), then PUT /users/{id}/metadata.
await step("updateUser.metadata", () =>
  users.updateUser(id, {
    lastName: "Byron",
    publicMetadata: { plan: "pro", prefs: { theme: "light" } },
    privateMetadata: { crm: 43 },
  }),
);
// Deep merge: nested objects merge, null removes a key at any level.
await step("updateUserMetadata", () =>
  users.updateUserMetadata(id, {
    publicMetadata: { prefs: { theme: null, fontSize: 14 }, plan: null, fooBar: { bazQux: 1 } },
    unsafeMetadata: { note: "hi" },
  }),
);

await step("verifyPassword", () => users.verifyPassword({ userId: id, password }));
await step("verifyPassword.wrong", () => users.verifyPassword({ userId: id, password: "not-the-password" }));
await step("updateUser.passwordPwned", () => users.updateUser(id, { password: "password123" }));
await step("updateUser.passwordShort", () => users.updateUser(id, { password: "short" }));

await step("banUser", () => users.banUser(id));
await step("getUserList.banned", () => users.getUserList({ banned: true }));
await step("unbanUser", () => users.unbanUser(id));
await step("lockUser", () => users.lockUser(id));
await step("unlockUser", () => users.unlockUser(id));

await step("getUser.unknown", () => users.getUser("user_doesnotexist"));
await step("deleteUser", () => users.deleteUser(id));
await step("getUser.deleted", () => users.getUser(id));
