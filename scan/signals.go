package scan

import (
	"fmt"
	"strings"
)

// Word tables of the signal rules. Property names are split into words
// ("skip_password_checks" → skip password checks) and also joined
// ("primaryemailaddressid"); tool names the same way.
var (
	authWords = set("password", "passwords", "passwd", "passphrase", "secret", "secrets", "token", "tokens",
		"apikey", "credential", "credentials", "totp", "otp", "mfa", "2fa", "cookie", "cookies",
		"bearer", "jwt", "privatekey", "env", "hasher", "digest", "oauth", "saml", "sso",
		// a service's stored sign-ins to other apps (Zapier's
		// "list-authentications")
		"authentication", "authentications")
	authPairs = [][2]string{{"api", "key"}, {"private", "key"}, {"access", "key"}, {"secret", "key"}, {"backup", "codes"}, {"recovery", "codes"}, {"client", "secret"}, {"session", "token"}, {"signing", "key"}, {"environment", "variable"}, {"environment", "variables"}, {"environment", "vars"},
		// "ssh" alone is a protocol (ssh_execute, ssh_tail); its keys are credentials
		{"ssh", "key"}, {"ssh", "keys"},
		// a domain's transfer code
		{"authorization", "code"},
		// a link anyone holding it can open
		{"public", "link"}, {"shareable", "link"}, {"share", "link"}}
	// settingWords end the name of a setting of a credential, not the
	// credential ("token_lifetime", "jwt_configuration").
	settingWords = set("lifetime", "ttl", "expiry", "expiration", "rotation", "type", "length", "algorithm", "alg", "method", "policy", "configuration", "config", "settings", "leeway")
	authPhrase   = []string{"password", "secret", "credential", "api key", "access token", "environment variable", "private key", "two-factor", "totp"}

	piiWords = set("email", "emails", "phone", "mobile", "birth", "birthday", "birthdate", "dob", "ssn", "passport", "gender", "surname", "username", "address", "postal", "zip", "nationality", "ethnicity", "salary")
	piiPairs = [][2]string{{"first", "name"}, {"last", "name"}, {"full", "name"}, {"given", "name"}, {"family", "name"}, {"ip", "address"}, {"date", "birth"}, {"social", "security"}}
	// personNouns, as the object of a tool's name, are records of people.
	personNouns = set("user", "users", "contact", "contacts", "customer", "customers", "member", "members", "person", "people",
		"profile", "profiles", "address", "addresses", "recipient", "recipients", "subscriber", "subscribers", "employee", "employees",
		"patient", "patients", "lead", "leads", "collaborator", "collaborators", "attendee", "attendees", "participant", "participants",
		// a shop's order or checkout holds its buyer's name, address and email
		"order", "orders", "checkout", "checkouts",
		"persons", "sender", "senders",
		// an app's beta testers; an issue's watchers
		"tester", "testers", "watcher", "watchers",
		// a recruiter's records: candidates and their resumes, affiliates
		"candidate", "candidates", "applicant", "applicants", "resume", "resumes", "affiliate", "affiliates",
		// an employer's records of its employees
		"attendance", "payslip", "payslips",
		// the account the tool acts as: its owner's profile
		"me", "myself")
	// personKinds, named by a property that picks the kind of record a
	// tool works on ("objectType": contacts, companies, deals), are people.
	personKinds = []string{"contacts", "users", "customers", "leads", "members", "people"}
	// kindNames pick the kind of record a generic tool works on.
	kindNames = set("objecttype", "objecttypes", "object", "objectname", "entitytype", "entity", "resourcetype")
	// mailNouns, as the object of a reading tool's name, are messages
	// with their senders' and recipients' addresses.
	mailNouns = set("email", "emails", "mail", "mails")
	// inboxNouns, as the object of a reading tool's name, are messages too.
	inboxNouns = set("email", "emails", "mail", "mails", "gmail", "inbox")
	// headTrailers stand after the noun they describe: "user_details".
	forwardWords = set("forwarding", "autoforwarding")
	mailboxWords = set("mailbox", "mailboxes")
	recordNouns  = set("object", "objects", "record", "records", "entity", "entities")
	// safetyChecks, after skip/bypass/disable, name a check a switch turns
	// off; tlsWords a check of the connection.
	safetyChecks = set("password", "passwords", "check", "checks", "verification", "validation", "auth", "mfa", "legal", "security")
	tlsWords     = set("tls", "ssl", "certificate", "certificates", "cert")
	// llmCountWords make a token a count of model tokens ("max_tokens").
	llmCountWords = set("max", "min", "num", "count", "limit", "budget", "used", "total", "prompt", "completion", "remaining", "number", "maximum")
	// pageWords make a token a page of results ("next_page_token").
	pageWords = set("page", "next", "continuation", "pagination", "cursor", "prev", "previous")
	// genericHeads are the objects of tools that read any kind of record.
	genericHeads = set("record", "records", "entry", "entries", "item", "items", "object", "objects", "result", "results",
		"search", "fetch", "get", "query", "find")
	// operationNouns, as the object of an executing name, are the
	// service's own operations.
	operationNouns = set("tool", "tools", "action", "actions", "operation", "operations",
		// a stored procedure or a workflow is the service's own code
		"procedure", "procedures", "workflow", "workflows",
		// a saved question or report of an analytics service
		"card", "cards", "report", "reports")
	// recordURLs start the name of a URL that identifies one of the
	// service's records ("issueUrl"), not a place the tool goes.
	recordURLs = set("issue", "ticket", "record", "event", "project", "resource", "git", "workflow", "pipeline", "job", "notebook",
		// links stored on a product or a model for people to read
		// ("home_url", "license_url", "paper_url")
		"home", "homepage", "license", "paper", "privacy", "terms", "changelog")
	// aggregateWords make a tool on people's records return sums
	// ("reports_customers"), not the records.
	aggregateWords = set("report", "reports", "analytics", "count")
	// composedWords make an email a composed one (an automation's, a
	// campaign's), not a message with a person's addresses.
	composedWords = set("automation", "automations", "campaign", "campaigns", "template", "templates")
	// threadNouns hold messages: emails, when the description says so.
	threadNouns = set("thread", "threads", "conversation", "conversations", "message", "messages", "draft", "drafts")
	// mailWords say a tool works on email.
	mailWords = set("email", "emails", "mail", "mailbox", "mailboxes", "inbox", "gmail", "imap", "smtp")
	// databaseWords, in a tool's name, make its users a database's roles.
	databaseWords = set("pg", "postgres", "postgresql", "mysql", "mariadb", "sql", "db", "database", "mongo", "mongodb", "redis")
	headTrailers  = set("details", "detail", "info", "information", "profile", "profiles", "data", "record", "records", "stats", "statistics",
		// a message's raw form, the changes to a folder's messages
		"mime", "raw", "delta")
	// piiNames carry people's addresses: recipients and reply-to headers.
	piiNames = set("cc", "bcc", "recipient", "recipients", "replyto", "sender", "attendees", "guests", "invitees")
	// inviteNames list the people a calendar event or a meeting invites:
	// saving it sends them invitations.
	inviteNames = set("attendees", "guests", "invitees")
	// sandboxHints say a tool's files are in a sandbox, not on the
	// server's disk.
	sandboxHints = []string{"sandbox", "in-memory", "isolated environment", "virtual file",
		// a machine the tool connects to
		"remote server", "remote host", "remote machine", "remote log", "remote file", "over ssh", "over sftp"}
	// fileNamePath say a file name is where the server reads or writes.
	fileNamePath = set("path", "save", "saved", "load", "loads", "resolved", "directory", "disk", "local")
	// forwardNames send mail on to the addresses they hold.
	forwardNames = set("forward", "forwardto", "redirectto", "forwardasattachmentto")
	// sentToPeople follow "send" in the name of a switch that tells
	// people ("sendResponse": the organizer gets the reply).
	sentToPeople = set("response", "notification", "notifications", "email", "emails", "invitation", "invitations", "invites", "updates", "message")
	// localFirst start the name of a path on the server's disk even on a
	// file store's server: where a download is saved, where an upload or
	// a credentials file is read from ("outputPath", "sourcePath").
	localFirst = set("save", "output", "download", "source", "credentials")
	// urlObjectVerbs make a URL in a name what the tool gives or records.
	urlObjectVerbs = set("get", "list", "mark", "generate", "create")
	// webPlatforms, in a reading tool's name, make the URL it takes a
	// record of that site (a scraping service's per-site tools).
	webPlatforms = set("amazon", "linkedin", "instagram", "facebook", "tiktok", "youtube", "reddit", "ebay", "etsy", "walmart",
		"zillow", "booking", "crunchbase", "zoominfo", "bestbuy", "homedepot", "yahoo")
	// envVarHints, in a lead, make "env" an environment's variables.
	envVarHints = []string{"variable", "vars", "env var", "secret"}
	// elsewhere, first in a path's name, put it off the server's disk.
	elsewhere = set("remote", "cloud", "repo", "repository", "git", "github", "gitlab", "gitea", "bitbucket", "build", "docker",
		"internal", "published", "public", "doc", "docs", "storage", "bucket", "s3", "object",
		// "instancePath": an instance's place in a tree (a game's, a
		// cloud's), not a file
		"instance")
	// httpParts, first in a name, make its body an HTTP message's.
	httpParts = set("response", "request", "http",
		// a rule's match on a message's body ("filter_body")
		"filter", "match")
	// httpMethods, in a tool's name, name the request it sends.
	httpMethods = set("get", "post", "put", "patch", "delete", "head")
	// urlPathWords, before "path" in a name, make it a URL's path.
	urlPathWords = set("health", "route", "endpoint", "api", "url", "uri", "webhook", "callback", "http")
	// networkObjects, in a tool's name, make its IP addresses machines'.
	networkObjects = set("firewall", "vpc", "subnet", "network", "networks", "loadbalancer", "balancer")
	// machineGroups hold machines, not people, as members ("show_cluster_members").
	machineGroups = set("cluster", "clusters", "vpc", "pool", "pools", "replica", "replicas")
	// agentWords, before "me" or "profile", make it a bot's.
	agentWords = set("agent", "agents", "bot", "bots")
	// biometricWords in a name mean the tool handles a person's face or body.
	biometricWords = set("face", "faces", "biometric", "biometrics", "liveness", "selfie", "fingerprint")
	// aboutNouns are recorded about whoever the name puts before them.
	aboutNouns = set("activity", "activities", "notes", "history", "timeline", "feedback")
	// keyKinds, in a lead, make a tool's "key" a credential.
	keyKinds = []string{"ssh key", "api key", "access key", "signing key", "private key", "ssh public key"}
	// variableWords name a tool's object: environment variables when its
	// lead mentions an environment.
	variableWords = set("variable", "variables", "vars")
	// browserOwn name what a browser tool changes on the browser itself,
	// not on a page: its window, viewport, sessions, profiles, cookies.
	browserOwn = set("hover", "resize", "emulate", "emulation", "scroll", "start", "stop", "launch", "session", "sessions", "profile", "profiles", "cookie", "cookies",
		"window", "windows", "frame", "viewport", "codegen", "agent", "media", "install",
		// "take_heapsnapshot": what is taken is read
		"take")
	// selfHeads and selfPhrases: a reader whose object is a user or a
	// profile and whose lead says the signed-in one reads that person.
	selfHeads   = set("whoami", "me", "myself", "user", "profile", "self")
	selfPhrases = []string{"current user", "authenticated user", "currently authenticated", "signed-in user", "logged-in user"}
	// cookieWords: a cookie's "path" is a URL path it is sent to.
	cookieWords = set("cookie", "cookies")
	// shareMessages are the text of the email a share sends.
	shareMessages = set("message", "emailmessage", "note")
	// endNames are the two ends of a copy or a move.
	endNames = set("source", "destination", "src", "dest", "target")
	// fieldWords, ending a property's name, make it a form field's
	// locator or name ("usernameSelector").
	fieldWords = set("selector", "selectors", "xpath", "locator", "placeholder")
	// installedCode is what an install runs the code of.
	installedCode = set("package", "packages", "server", "plugin", "plugins", "extension", "extensions", "dependency", "dependencies", "module", "modules")
	// nameKinds, before "name", make a person's name.
	nameKinds = set("full", "first", "last", "given", "family", "display")
	// namedThings, before a full or display name, own it instead of a
	// person ("jobFullName").
	namedThings = set("job", "jobs", "folder", "parent", "project", "repo", "repository", "file", "branch", "pipeline", "build", "workspace",
		"group", "package", "app", "application", "service", "dataset", "table", "model", "image", "product", "item", "node", "view", "stage")
	// oauthPlaces, as an OAuth tool's object, are places, not grants.
	oauthPlaces = set("url", "urls", "link", "links", "site", "sites")
	// imageRefs, after "image", name a container image by reference
	// ("imageUrl", "image_name").
	imageRefs = set("url", "uri", "name", "ref", "reference", "tag")
	// imageMoves copy or describe an image without running it.
	imageMoves = set("pull", "push", "publish", "tag", "inspect", "save", "load", "export")
	// variableKinds, in a lead, make a tool's variables the ones that
	// hold secrets: an environment's or a CI/CD pipeline's.
	variableKinds = []string{"environment", "ci/cd variable", "ci variable", "pipeline variable"}
	// secretOwners make a secret part of a stored file's address
	// (GitLab's upload "secret"), not a credential.
	secretOwners = []string{"secret of the upload", "secret of the file", "secret of the attachment"}
	// sessionVerbs open or end a signed-in session.
	sessionVerbs = set("login", "logout", "signin", "signout")
	// loginProtocols, in a tool's name, make the passwords and keys it
	// takes the ones it logs in with ("ssh_run": password, passphrase).
	loginProtocols = set("ssh", "sftp", "ftp", "telnet")
	// connectVerbs name a tool that opens a connection.
	connectVerbs = set("connect", "init", "initialize")
	// chainWords in a tool's name and chainPhrases in its text say it
	// works on a blockchain.
	chainWords   = set("erc20", "erc721", "erc1155", "nft", "nfts", "evm", "blockchain", "onchain")
	chainPhrases = []string{"0x", "ens name", "evm", "erc20", "erc-20", "blockchain", "on-chain", "wallet address", "smart contract", "contract address", "mainnet", "testnet"}
	// templateText name the text of a message template.
	templateText = set("message", "body", "content", "text")
	// templateLanguages render a text for someone else (a snippet in
	// "Handlebars", a "Liquid" template).
	templateLanguages = set("handlebars", "liquid", "mustache", "jinja", "jinja2")
	// tokenOwners, in a token's name, are what it identifies.
	tokenOwners = set("app", "folder", "file", "doc", "docx", "document", "node", "table", "sheet", "wiki", "space", "base", "bitable",
		// a task's claim ("claimToken"): who holds the task
		"claim")
	// storeHints say a tool's paths name objects of an online store
	// ("List files in a given path in Firebase Storage", "a folder in
	// your media library"), not the server's disk.
	storeHints = []string{"cloud storage", "firebase storage", "object storage", "storage bucket", "media library", "google drive"}
	// connectQualifiers start the name of a credential the tool connects
	// with ("dbPassword", "sudo_password"): used, not handled.
	connectQualifiers = set("db", "database", "sudo", "smtp", "imap", "proxy", "connection", "redis", "mysql", "postgres")
	// domainWords name a tool that configures domain names.
	domainWords = set("domain", "domains", "dns")
	// sqlNames hold SQL when their description says so.
	sqlNames = set("query", "statement", "body", "definition", "sql")
	// queueWords name a queue or a topic: a message sent there is for
	// programs, not people.
	queueWords = set("queue", "queues", "topic", "topics")
	// nounVerbs are messaging verbs that are as often the object of a
	// name ("unread_room_message"): a verb only as its first word.
	nounVerbs = set("message", "email", "mail", "text", "sms", "dm", "tweet")
	// commentNouns are posted on a document, not sent to people.
	commentNouns = set("comment", "comments", "review", "reviews")
	// lookupVerbs find or remove a record a URL names; storeVerbs save a
	// URL as a field of one. Neither goes to the URL.
	lookupVerbs = set("get", "list", "search", "find", "lookup", "retrieve", "describe", "delete", "remove")
	storeVerbs  = set("create", "update", "edit", "set", "add", "save", "patch", "upsert")
	// fetchHints say that a tool goes to the URL it is given.
	fetchHints = []string{"fetch", "download", "import", "crawl", "scrap", "web page", "webpage", "http", "request", "webhook", "callback", "clone", "navigate", "visit", "load", "from a url", "from the url", "from url"}
	// piiNamePairs, in a tool's name, are payment instruments of people.
	piiNamePairs = [][2]string{{"payment", "method"}, {"payment", "methods"}, {"credit", "card"}, {"bank", "account"}}
	piiPhrase    = []string{"email address", "phone number", "date of birth", "personal data", "personal information", "home address", "social security", "first name", "last name", "attendees", "reviewer info", "reviewer details", "reviewer names"}
	piiFormat    = set("email", "idn-email", "phone")

	execNames = set("command", "cmd", "shell", "sql", "sourcecode", "program", "bash", "powershell", "javascript", "python", "eval")
	// execMaybe names are code only when the text around says so: a
	// discount "code" is not a program.
	execMaybe  = set("code", "script", "expression", "snippet", "function")
	execHints  = []string{"javascript", "python", "execut", "evaluat", "run ", "runs ", "bash", "shell", "typescript", "source code", "eval("}
	execWords  = set("exec", "execute", "eval", "shell", "bash", "terminal", "command", "commands", "script", "scripts", "sql", "python", "javascript", "repl", "powershell", "sandbox")
	execPhrase = []string{"execute arbitrary", "arbitrary code", "shell command", "run a command", "runs a command", "run commands", "execute code", "executes code", "execute javascript", "execute python", "execute sql", "run sql", "runs sql", "execute a script", "run a script"}

	netNames = set("url", "uri", "urls", "endpoint", "webhook", "webhookurl", "callback", "callbackurl", "host", "hostname", "href", "proxy", "link", "baseurl",
		// a connection string names the host to connect to
		"connectionstring", "connectionuri", "connectionurl", "dsn")
	// netLast end a property name that is an address to call
	// ("status_callback", "redirect_uri").
	netLast = set("url", "uri", "callback", "webhook")
	// netLists name arrays of addresses the tool calls or fetches.
	netLists = set("urls", "uris", "endpoints", "webhooks", "hosts", "hostnames")
	// browserWords name a tool that drives a browser; pageActions are
	// what such a tool does on a page.
	browserWords = set("browser", "puppeteer", "playwright")
	pageActions  = set("navigate", "goto", "click", "press", "fill", "type", "drag", "drop", "select", "upload", "dialog", "submit", "evaluate", "run", "back", "forward")
	// netDescs describe a string property as an address to call.
	netDescs = []string{"endpoint url", "webhook url", "callback url", "webhook endpoint", "url to call", "url to send",
		"repository url", "registry url", "server url", "url to fetch", "url to download", "an http/https url", "a remote url"}
	// pageNames are elements of a web page a browser tool acts on.
	pageNames  = set("element", "selector", "cssselector", "xpath")
	netFormats = set("uri", "url", "iri", "uri-reference", "iri-reference", "hostname", "idn-hostname", "ipv4", "ipv6")
	netWords   = set("http", "https", "url", "scrape", "curl", "browse")
	netPhrase  = []string{"any url", "arbitrary url", "http request", "web page", "webpage", "fetches the url", "fetch a url", "download from"}

	// fsNames are paths; a working directory, like a cwd, is where a
	// command runs, not a file it reads.
	fsNames  = set("path", "paths", "file", "files", "filename", "filepath", "dir", "directory", "folder", "glob", "filenames")
	fsWords  = set("file", "files", "directory", "directories", "dir", "folder", "folders", "path", "fs", "filesystem", "disk")
	fsPhrase = []string{"file system", "filesystem", "local file", "on disk", "the file at", "files and directories", "allowed directories", "directories that this server", "directories this server"}

	msgVerbs  = set("send", "email", "notify", "message", "reply", "forward", "invite", "reinvite", "sms", "broadcast", "text", "post", "dm", "tweet", "mail")
	msgVerbs2 = set("broadcast")
	msgNouns  = set("email", "emails", "sms", "message", "messages", "notification", "notifications", "invitation", "invitations", "invite", "invites", "mail", "tweet", "dm")
	// sentNouns are sent by a dispatch verb, but created as drafts:
	// "send_broadcast" messages people, "create_broadcast" does not.
	sentNouns = set("broadcast", "broadcasts", "newsletter", "newsletters", "campaign", "campaigns", "draft", "drafts")
	msgNames  = set("recipient", "recipients", "cc", "bcc", "notify", "sendemail", "notifyuser", "sendnotification", "sendinvite")
	// dispatchVerbs send whatever their object is ("send_event", "post_page"):
	// they message people only when the name says a message is sent.
	dispatchVerbs = set("send", "post", "push", "forward", "trigger", "launch", "schedule")
	// createVerbs make the object of the name: "create_invitation" sends one.
	createVerbs = set("create", "new", "add", "compose", "publish", "submit", "schedule", "queue", "deliver", "dispatch")
	// msgSiblings, next to a top-level "to", make it a recipient.
	msgSiblings = set("subject", "cc", "bcc", "text", "html", "body", "message", "content", "template")
	msgPhrase   = []string{"send an email", "sends an email", "receive an email", "will receive an email", "send a message", "sends a message", "send an sms", "is notified", "are notified", "email notification", "send invitation", "sends an invitation",
		"cancellation message", "sends a cancellation", "outbound call", "notifying the organizer"}

	bulkWords   = set("bulk", "batch", "mass", "all", "many", "multiple", "import", "purge", "sync")
	bulkPlurals = set("ids", "users", "records", "items", "rows", "entries", "emails", "messages", "recipients", "objects", "documents", "files", "accounts", "customers", "contacts", "keys")
	bulkPhrase  = []string{"in bulk", "bulk ", "batch of", "in batches", "all users", "all records", "all items", "all data", "every user", "every record", "many records"}

	irrevVerbs  = set("delete", "destroy", "purge", "drop", "wipe", "erase", "truncate", "overwrite", "rm", "del")
	irrevPhrase = []string{"permanently", "irreversib", "cannot be undone", "can't be undone", "cannot be recovered", "can't be recovered", "cannot be un-", "deleted forever", "cannot be restored"}

	// (a currency alone names no amount: an account's or a quote's)
	moneyNames = set("amount", "price", "cost", "fee", "iban", "bic", "swift", "cardnumber", "cvc", "cvv", "accountnumber", "routingnumber", "payment", "paymentmethod", "amountcents", "unitamount", "total")
	// moneyLast end the name of an amount ("lineAmount", "unitPrice").
	moneyLast = set("amount", "price", "cost", "fee", "total")
	// limitWords start the name of a cap, not an amount ("MaxPrice").
	limitWords = set("max", "min", "maximum", "minimum",
		// "testsTotal", "pagesTotal": a total of things counted
		"tests", "pages", "results", "records", "rows", "files", "tokens", "steps", "tasks", "issues", "runs", "cases", "hits", "errors")
	// offerNouns are documents that offer a price and bill no one.
	offerNouns  = set("quote", "quotes", "estimate", "estimates", "proposal", "proposals")
	moneyPhrase = []string{"charge the", "charges the", "payment", "refund", "transfer funds", "transfers funds", "send money", "payout", "credit card", "bank account"}

	adminWords  = set("role", "roles", "permission", "permissions", "privilege", "privileges", "admin", "admins", "administrator", "acl", "acls", "membership", "memberships", "superuser", "sudo", "rbac", "policy", "policies", "owner", "ownership")
	adminNames  = set("role", "roles", "permission", "permissions", "privilege", "privileges", "isadmin", "admin", "superuser", "acl", "accesslevel", "scopes", "grants", "owner")
	adminPhrase = []string{"permission", "administrator", "admin access", "privilege", "role"}

	bodyNames   = set("body", "html", "htmlbody", "template", "markdown", "markup", "htmlcontent", "bodyhtml", "richtext", "svg", "emailbody", "messagebody", "templatebody")
	bodyFormats = set("html", "text/html", "markdown", "text/markdown", "template")
	bodyExposed = set("frontend", "rendered", "render", "display", "displayed", "html")
	// bodyExposedTool, in a tool's name, say its free-form objects are shown.
	bodyExposedTool = set("frontend", "rendered", "render", "display", "displayed", "html")
	// remoteNames: a path next to one of these is in a remote store, not
	// on the server's disk.
	// assetWords name URLs of things shown to people, not fetched.
	assetWords = set("image", "logo", "icon", "avatar", "photo", "picture", "thumbnail", "favicon", "cover", "tracking",
		// a service's own regional endpoint, not one the caller picks
		"region",
		// where a person's browser is sent after a flow, and a link put
		// in a document: followed by people, not by the tool
		"redirect", "return", "link", "success", "cancel", "failure",
		// a person's profile pages
		"linkedin", "website", "homepage", "twitter", "github")
	remoteNames = set("repo", "repository", "owner", "bucket", "project", "projectid", "branch")
	// fileParents hold files: a path inside one is a file's path.
	fileParents = set("file", "files", "attachment", "attachments", "document", "documents", "upload", "uploads")
)

// maxSignalText is how much of a description the signal phrases read
// (the injection checks read more, see maxTextScan).
const maxSignalText = 4096

// hasPair reports whether toks holds a and then b, next to each other or
// with one word between ("date of birth").
func hasPair(toks []string, pairs [][2]string) (string, bool) {
	for _, p := range pairs {
		for i, w := range toks {
			if w != p[0] {
				continue
			}
			if i+1 < len(toks) && toks[i+1] == p[1] || i+2 < len(toks) && toks[i+2] == p[1] {
				return p[0] + " " + p[1], true
			}
		}
	}
	return "", false
}

func anyWord(toks []string, words map[string]bool) (string, bool) {
	for _, w := range toks {
		if words[w] {
			return w, true
		}
	}
	return "", false
}

func anyPhrase(text string, phrases []string) (string, bool) {
	for _, p := range phrases {
		if strings.Contains(text, p) {
			return p, true
		}
	}
	return "", false
}

// isRef: a property naming another object by id ("primary_web3_wallet_id")
// refers to data; it does not carry it.
func isRef(p *prop) bool {
	if len(p.toks) < 2 {
		return false
	}
	last := p.toks[len(p.toks)-1]
	return last == "id" || last == "ids" || last == "uuid" || last == "uuids"
}

// descriptionLead is what a description says first: its first paragraph,
// at most 512 bytes. Long descriptions go on with usage notes and examples
// that mention passwords, emails and shell commands without the tool
// handling any; phrase rules read the lead only.
func descriptionLead(d string) string {
	d = strings.TrimSpace(descriptionBody(d))
	if i := strings.Index(d, "\n\n"); i >= 0 {
		d = d[:i]
	}
	return clip(d, 512)
}

// lastVerb reports whether a name puts its verb last ("orders_list"): the
// last word is a verb and none before it is.
func lastVerb(toks []string) bool {
	if _, ok := verbs[toks[len(toks)-1]]; !ok {
		return false
	}
	for _, w := range toks[:len(toks)-1] {
		if _, ok := verbs[w]; ok {
			return false
		}
	}
	return true
}

// nameHead is the object of a tool's name: its last word, or the one before
// a trailer ("get_user_details" → user).
func nameHead(toks []string) []string {
	// A word after "by" groups the object, it is not the object:
	// "list_receivables_by_contact".
	for i := 2; i < len(toks)-1; i++ {
		if toks[i] == "by" {
			toks = toks[:i]
			break
		}
	}
	// "getWHOISProfileV1": an API version ends the name, after its object.
	for len(toks) > 1 && apiVersion(toks[len(toks)-1]) {
		toks = toks[:len(toks)-1]
	}
	// "user_services_reader": the one who acts and the services it goes
	// through stand after the object; so does the verb of a name that
	// puts it last ("woo_orders_list", "pods_log").
	for len(toks) > 1 {
		w := toks[len(toks)-1]
		if agentNouns[w] == "" && w != "services" && w != "service" && !lastVerb(toks) {
			break
		}
		toks = toks[:len(toks)-1]
	}
	if len(toks) == 0 {
		return nil
	}
	last := toks[len(toks)-1]
	if headTrailers[last] && len(toks) > 1 {
		return []string{last, toks[len(toks)-2]}
	}
	return []string{last}
}

// signals runs the signal rules over the name, the description and the
// input schema's properties.
func (c *classifier) signals() {
	name := c.nameToks
	desc := c.signalText()
	lead := strings.ToLower(descriptionLead(c.t.Description))
	// The phrase lists are matched in one pass over the lead, and over
	// the description when a rule reads it.
	leadHits := hits(signalMatcher, lead)
	var descHits phraseHits
	descRead := false
	inDesc := func(k int) (string, bool) {
		if !descRead {
			descHits, descRead = hits(signalMatcher, desc), true
		}
		return descHits.first(k)
	}
	q := func(s string) string { return fmt.Sprintf("%q", clip(s, 60)) }

	head := nameHead(name)
	// Name words.
	// A password generated and returned is made up on the spot: no
	// stored credential is read or changed.
	generated := c.category == Read && c.verb == "generate"
	// "digest_state" is a summary; a password digest says password.
	// On a blockchain a token is a coin, and a private key signs.
	chainToken := func(w string) bool {
		return (w == "token" || w == "tokens" || w == "private key") && c.onChain(lead)
	}
	// "env" is an environment's variables only when the lead says so
	// ("queryEnv" on a cloud platform is its environments).
	cloudEnv := func(w string) bool {
		return w == "env" && !hasAnyPhrase(lead, envVarHints)
	}
	// A browser's cookies are its sign-ins when read out; setting the
	// ones a call gives, or deleting them, hands out none.
	cookieWrite := func(w string) bool {
		return cookieWords[w] && c.category != Read
	}
	// An OAuth authorization URL is where a person signs in, and the
	// sites an OAuth grant reaches are places: neither is a credential
	// ("jira_oauth_get_auth_url", "ebay_get_oauth_url").
	oauthPlace := func(w string) bool {
		return w == "oauth" && c.category == Read && len(head) > 0 && oauthPlaces[head[len(head)-1]]
	}
	// Checking an environment's set-up ("greptile_env_check": "Check
	// environment variable configuration and setup status") reports
	// what is set, not the values, unless the lead says it shows them.
	envCheck := func(w string) bool {
		return w == "env" && c.verbSource == "name" && (c.verb == "check" || c.verb == "validate" || c.verb == "verify") && descWord(lead, setupWords) && !descWord(lead, revealWords) && !hasAnyPhrase(lead, []string{"every variable", "each variable", "all variables", "every environment variable", "each environment variable", "all environment variables"})
	}
	exemptAuth := func(w string) bool {
		return envCheck(w) || (w == "digest" || w == "hasher") && !contains(name, "password") || chainToken(w) || cloudEnv(w) || cookieWrite(w) || oauthPlace(w)
	}
	if w, ok := firstWordWhere(name, authWords, func(w string) bool { return !exemptAuth(w) }); ok && !generated {
		c.add(SigAuth, "name-word", "name word "+q(w))
	} else if w, ok := hasPair(name, nameAuthPairs); ok && !chainToken(w) {
		c.add(SigAuth, "name-word", "name words "+q(w))
	} else if w, ok := anyWord(name, sessionVerbs); ok && len(name) <= 2 && c.category != Read {
		// "login", "docker_logout": signing in makes a session (tokens
		// the server keeps); signing out revokes it.
		c.add(SigAuth, "name-word", "name word "+q(w)+" (opens or ends a signed-in session)")
	} else if len(head) > 0 && (head[0] == "key" || head[0] == "keys") && hasAnyPhrase(lead, keyKinds) && !c.onChain(lead) {
		// "key-create": "Create a new SSH key".
		c.add(SigAuth, "name-word", "name word "+q(head[0])+" of a tool on SSH or API keys")
	} else if w, ok := anyWord(name, connectionWords); ok && appConnection(lead) {
		// "slack_start_connection": "Start a connection to the Slack
		// app": a connection to an app is its OAuth grant.
		c.add(SigAuth, "name-word", "name word "+q(w)+" of a connection to an app (a stored sign-in)")
	} else if w, ok := anyWord(name, variableWords); ok && hasAnyPhrase(lead, variableKinds) {
		// "list_service_variables": "List all environment variables for
		// a service", where connection strings and secrets are kept; a
		// pipeline's CI/CD variables hold its deploy keys and tokens.
		c.add(SigAuth, "name-word", "name word "+q(w)+" of a tool on environment or CI/CD variables")
	}
	// Installing a package or a server from a repository runs its code
	// ("install_repo_mcp_server"); a browser or a chart installed is the
	// vendor's.
	if c.verb == "install" && c.verbSource == "name" && anyIn(name, installedCode) {
		c.add(SigExec, "name-word", "name verb \"install\" of a package or a server (runs its code)")
	}
	// Taps, swipes and presses on a phone's or a simulator's screen drive
	// whatever app is in front, as a person's fingers would; a browser's
	// clicks are on the page it was sent to (network, below).
	if c.verbSource == "name" && (c.verb == "tap" || c.verb == "swipe" || (c.verb == "press" || c.verb == "click") && anyIn(name, deviceWords)) && !anyIn(name, browserWords) {
		c.add(SigExec, "name-verb", "name verb "+q(c.verb)+" (input to a device's screen)")
	}
	// "execute_sentry_tool" runs one of the service's operations, not code.
	if w, ok := execNameWord(name, c.verb, c.verbSource); ok && !anyIn(head, operationNouns) {
		c.add(SigExec, "name-word", "name word "+q(w))
	}
	// A browser tool that clicks, types or navigates acts on whatever site
	// its page was sent to.
	if c.category != Read && anyIn(name, browserWords) {
		if w, ok := anyWord(name, pageActions); ok {
			c.add(SigNetwork, "name-word", "name words \"browser\" and "+q(w)+" (acts on a live page)")
		}
	} else if c.category != Read {
		// A DevTools-style server names no browser in its tools' names;
		// they target a page ("pageId") or an element of one instead.
		if w, ok := anyWord(name, pageActions); ok && len(name) <= 2 && c.onLivePage(lead) {
			c.add(SigNetwork, "name-word", "name word "+q(w)+" on a browser page (acts on a live page)")
		} else if c.browserServer && c.category == Write && !c.readVerb && !anyIn(name, browserOwn) && !strings.HasSuffix(c.categoryRule, localSaveRule) && (pageLead(lead) || anyIn(name, pageActions) || contains(name, "input")) {
			// On a server that drives a browser, a tool that acts
			// ("interact", "send_keys", "execute_script") acts on the
			// page it was sent to; one on the browser itself (its
			// window, size, sessions, cookies) does not.
			c.add(SigNetwork, "server-kind", "a write of a browser server (acts on a live page)")
		}
	}
	// Downloading reads the service's own store unless a URL is given
	// (which the property rules see): "download" is not a name word.
	// A URL the tool gives, makes or marks ("get_asset_upload_url",
	// "mark_discovered_url_processed") is data; one it goes to is not
	// ("fetch_url", "upload_from_url").
	if w, ok := anyWord(name, netWords); ok && !(w == "url" && (urlObjectVerbs[c.verb] || urlComputeVerbs[c.verb] && c.verbSource == "name" && !c.leadFetches) && !contains(name, "from")) {
		c.add(SigNetwork, "name-word", "name word "+q(w))
	}
	// A message sent to a queue or a topic is for programs; a reply to a
	// comment is posted on the document.
	toPeople := !anyIn(name, queueWords) && !anyIn(head, commentNouns)
	if c.category != Read {
		nameVerb := ""
		if c.verbSource == "name" {
			nameVerb = c.verb
		}
		n, hasNoun := anyWord(name, msgNouns)
		if !hasNoun {
			n, hasNoun = anyWord(name, sentNouns)
		}
		h, headNoun := anyWord(head, msgNouns)
		// "unread_room_message": a message noun after the first word is
		// the object, not the verb.
		if nounVerbs[nameVerb] && len(name) > 0 && name[0] != nameVerb {
			nameVerb = ""
		}
		switch {
		case !toPeople:
		case dispatchVerbs[nameVerb] && hasNoun:
			c.add(SigMessaging, "name-word", "name verb "+q(nameVerb)+" and noun "+q(n))
		case (msgVerbs[nameVerb] || msgVerbs2[nameVerb]) && !dispatchVerbs[nameVerb]:
			c.add(SigMessaging, "name-word", "name verb "+q(nameVerb))
		case headNoun && c.category == Write && (nameVerb == "" || createVerbs[nameVerb]) && !contains(name, "draft") && !markedThing(name):
			// "create_draft_email" saves a draft.
			c.add(SigMessaging, "name-word", "name word "+q(h))
		}
		// "send_invoice": the invoice is emailed to the customer, whose
		// address it carries.
		if c.sendsBill() && toPeople {
			c.add(SigMessaging, "name-word", "name verb "+q(c.verb)+" of a bill (emails it to the customer)")
			c.add(SigPII, "name-word", "name verb "+q(c.verb)+" of a bill (the customer's address)")
		}
		// "create_phone_call": a call placed to a person's number.
		if contains(name, "phone") && (contains(name, "call") || contains(name, "calls")) && !c.Has(SigMessaging) && createVerbs[nameVerb] {
			c.add(SigMessaging, "name-word", "name words \"phone\" and \"call\" (places a call to a person)")
		}
		// Forwarding a domain redirects web traffic, not mail.
		if w, ok := anyWord(name, forwardWords); ok && !c.Has(SigMessaging) && c.category == Write && !anyIn(name, domainWords) {
			// Forwarding sends every message to an address: set up once,
			// it messages someone from then on.
			c.add(SigMessaging, "name-word", "name word "+q(w)+" (sends messages on to an address)")
		}
		if w, ok := anyWord(name, bulkWords); ok {
			c.add(SigBulk, "name-word", "name word "+q(w))
		}
		if len(name) > 0 && adminWords[name[len(name)-1]] {
			w := name[len(name)-1]
			c.add(SigAdmin, "name-word", "name word "+q(w))
		}
	}
	if c.category == Destructive && c.verbSource == "name" && irrevVerbs[c.verb] {
		c.add(SigIrreversible, "name-verb", "name verb "+q(c.verb))
	}
	if c.category == Financial {
		switch {
		case c.verbSource == "name" && verbs[c.verb] == verbFinancial:
			c.add(SigMoney, "name-verb", "name verb "+q(c.verb))
		case strings.HasPrefix(c.categoryRule, "name-noun:"):
			c.add(SigMoney, "name-word", "name word "+q(strings.TrimPrefix(c.categoryRule, "name-noun:")))
		case strings.HasPrefix(c.categoryRule, "name-verb:accept"):
			// a dispute accepted refunds the buyer
			c.add(SigMoney, "name-word", "name words \"accept\" and a dispute (refunds the buyer)")
		}
	}
	if w, ok := anyWord(name, moneyNouns); ok && c.category != Financial && c.category != Read && !c.readVerb && !paymentMethod(name) && !dbTransaction(name) && !c.transactionActions() && !(w == "checkout" && c.gitRef()) && !workTransfer(name) && !c.sendsBill() && !c.disputeStep() {
		c.add(SigMoney, "name-word", "name word "+q(w))
	}
	// An email sent, replied to or forwarded carries its addresses.
	if w, ok := anyWord(name, mailNouns); ok && c.Has(SigMessaging) {
		c.add(SigPII, "name-word", "name word "+q(w)+" of a tool that sends it (an email message)")
	}
	if w, ok := hasPair(name, piiNamePairs); ok {
		c.add(SigPII, "name-word", "name words "+q(w)+" (a person's payment details)")
	}
	if w, ok := anyWord(name, biometricWords); ok {
		// "face_match", "passive_liveness": a person's face.
		c.add(SigPII, "name-word", "name word "+q(w)+" (biometric data)")
	} else if w, ok := personRecords(name, head); ok && c.category == Read {
		// "get_subscriber_activity", "get_candidate_notes": what is
		// recorded about a person.
		c.add(SigPII, "name-word", "name word "+q(w)+" (records about a person)")
	} else if w, ok := anyWord(head, personNouns); ok && !(w == "address" && anyIn(name, memoryTools)) && !(len(name) == 2 && name[0] == "ask" && (w == "user" || w == "human") && (strings.HasPrefix(lead, "ask") || strings.HasPrefix(lead, "prompt") || strings.HasPrefix(lead, "show"))) && !(anyIn(name, databaseWords) && (w == "user" || w == "users")) && !anyIn(name, aggregateWords) && (c.category == Read || c.category == Write) && !machineProfile(w, name, lead) && !(anyIn(name, agentWords) && (w == "me" || w == "profile")) && !((w == "member" || w == "members") && anyIn(name, machineGroups)) {
		c.add(SigPII, "name-word", "name word "+q(w)+" (records of people)")
	} else if w, ok := anyWord(head, inboxNouns); ok && c.category == Read && !anyIn(name, composedWords) {
		c.add(SigPII, "name-word", "name word "+q(w)+" (messages with their addresses)")
	} else if w, ok := anyWord(head, threadNouns); ok && c.category == Read && (c.mailServer || c.mailish(lead)) {
		c.add(SigPII, "name-word", "name word "+q(w)+" of emails (messages with their addresses)")
	} else if c.mailServer && c.category == Read && c.verbSource == "name" && c.verb == "search" {
		// A search on a mail server ("search_by_subject") finds emails.
		c.add(SigPII, "name-verb", "name verb \"search\" on a mail server (emails with their addresses)")
	} else if w, ok := leadPeople(lead); ok && c.category == Read && (len(head) == 0 || anyIn(head, genericHeads)) {
		// A generic reader of records ("search", "get_list_entries")
		// whose description lists people among them.
		c.add(SigPII, "description-phrase", "description names "+q(w)+" among what it returns (records of people)")
	} else if w, ok := anyWord(name, gitHistory); ok && c.category == Read && contains(name, "git") {
		// "git_log", "git_show": commits with their authors' names and
		// email addresses.
		c.add(SigPII, "name-word", "name words \"git\" and "+q(w)+" (commits with their authors' names and addresses)")
	} else if w, ok := anyWord(name, ipLookups); ok && c.category == Read && contains(name, "ip") {
		// "rek_ip_lookup": where an IP address is, and whose.
		c.add(SigPII, "name-word", "name words \"ip\" and "+q(w)+" (an IP address located)")
	}

	// Annotations: see the end for openWorldHint.
	if c.ann.Destructive != nil && *c.ann.Destructive && (c.ann.ReadOnly == nil || !*c.ann.ReadOnly) &&
		(c.ann.Idempotent == nil || !*c.ann.Idempotent) && c.category == Destructive {
		c.add(SigIrreversible, "annotation", "annotation destructiveHint: true")
	}

	// Properties.
	// Files of a sandbox or an in-memory file system are not on the
	// server's disk; a lead that fetches makes a URL a destination.
	_, c.sandboxed = leadHits.first(phrSandbox)
	_, c.leadFetches = leadHits.first(phrFetch)
	c.properties(q, inDesc, head, lead)

	// Description phrases, in the description's lead.
	// A reading tool that mentions credentials describes how it
	// connects ("checks the API key"); it does not handle any.
	// Environment variables given to a command the tool runs ("Execute
	// a shell command with environment variables support") set up the
	// command; they are not secrets the tool keeps.
	if p, ok := leadHits.firstWhere(phrAuth, func(p string) bool { return handlesCredential(lead, p) }); ok && c.category != Read && !c.connectsWith(lead) && !(p == "environment variable" && c.Has(SigExec)) {
		c.add(SigAuth, "description-phrase", "description mentions "+q(p))
	}
	if p, ok := leadHits.first(phrPII); ok && !(p == "phone number" && phoneResource(name, head)) {
		c.add(SigPII, "description-phrase", "description mentions "+q(p))
	} else if c.category == Read && (len(head) > 0 && selfHeads[head[len(head)-1]] && hasAnyPhrase(lead, selfPhrases) || whoami(name)) {
		// "whoami": "Get current authenticated user details" returns
		// the signed-in person's profile.
		c.add(SigPII, "description-phrase", "reads the profile of the signed-in user")
	}
	// A reading tool that runs code shows it in its inputs; its text
	// mentioning commands is documentation ("blocked shell commands").
	if p, ok := leadHits.says(lead, phrExec); ok && c.category != Read {
		c.add(SigExec, "description-phrase", "description mentions "+q(p))
	}
	// "Performs an HTTP request against the PostgREST API", with a
	// method and a path: the configured API's, not a place of the
	// caller's choosing.
	if p, ok := leadHits.first(phrNet); ok && !(p == "http request" && c.apiMethod() != "") {
		c.add(SigNetwork, "description-phrase", "description mentions "+q(p))
	}
	// On an online store or a code host, "files and directories" are
	// the store's or the repository's, unless they are said to be local.
	if p, ok := leadHits.first(phrFS); ok && !c.sandboxed && !(c.storeServer && (p == "files and directories" || p == "file system" || p == "filesystem") && !strings.Contains(lead, "local")) {
		c.add(SigFS, "description-phrase", "description mentions "+q(p))
	}
	if c.category != Read {
		if c.notifyAddress != "" && strings.Contains(desc, "notification") {
			c.add(SigMessaging, "property-name", "property "+q(c.notifyAddress)+" and description mentions \"notification\"")
		} else if m := c.sharedMessage(); m != "" {
			// "share_file" with an email and a message: the service
			// emails the person shared with, the caller's text in it.
			c.add(SigMessaging, "property-name", "property "+q(m)+" of a share with "+q(c.notifyAddress)+" (a sharing email)")
		}
		// A draft is saved, not sent ("use send-mail to send a message").
		if p, ok := leadHits.first(phrMsg); ok && toPeople && !contains(name, "draft") {
			c.add(SigMessaging, "description-phrase", "description mentions "+q(p))
		}
		if p, ok := inDesc(phrBulk); ok {
			c.add(SigBulk, "description-phrase", "description mentions "+q(p))
		}
		if p, ok := inDesc(phrAdmin); ok && c.Has(SigAdmin) {
			c.add(SigAdmin, "description-phrase", "description mentions "+q(p))
		}
	}
	if c.category == Destructive || c.category == Financial {
		if p, ok := inDesc(phrIrrev); ok {
			c.add(SigIrreversible, "description-phrase", "description says "+q(p))
		}
	}
	if c.category == Financial || c.category == Write {
		if p, ok := inDesc(phrMoney); ok && (c.category == Financial || c.Has(SigMoney)) {
			c.add(SigMoney, "description-phrase", "description mentions "+q(p))
		}
	}
	// A file in the name is the server's own file only when a path or the
	// description says so: GitHub's files are in a repository.
	if w, ok := anyWord(name, fsWords); ok && c.Has(SigFS) {
		c.add(SigFS, "name-word", "name word "+q(w))
	}
	// Items of a password vault are credentials: listing, reading,
	// saving or deleting them handles secrets.
	if !c.Has(SigAuth) && hasWord(lead, "vault") && (len(head) == 0 || head[0] == "item" || head[0] == "items" || lookupVerbs[head[0]] || storeVerbs[head[0]] || head[0] == "lock" || head[0] == "unlock") {
		c.add(SigAuth, "description-phrase", "an item of a vault (a stored credential)")
	}
	// A write that runs the caller's SQL can delete and drop whatever the
	// SQL says, unless it is only a SELECT.
	if c.category == Write && c.sqlProp != "" && !contains(name, "select") && !hasWord(lead, "select") && !hasWord(lead, "read-only") && !strings.Contains(lead, "read only") {
		c.category, c.categoryRule = Destructive, "property-name:"+c.sqlProp+" (runs the caller's SQL)"
	}
	// openWorldHint says a tool talks to systems outside the server (a
	// search API, a browser page), not that the caller picks where: it is
	// evidence only next to another.
	if c.ann.OpenWorld != nil && *c.ann.OpenWorld && c.Has(SigNetwork) {
		c.add(SigNetwork, "annotation", "annotation openWorldHint: true")
	}
}

// The phrase lists of signalMatcher, by index.
const (
	phrAuth = iota
	phrPII
	phrExec
	phrNet
	phrFS
	phrMsg
	phrBulk
	phrAdmin
	phrIrrev
	phrMoney
	phrExecHints
	phrSandbox
	phrFetch
)

// signalMatcher matches the phrase lists of the signal rules.
var signalMatcher = newPhraseMatcher(authPhrase, piiPhrase, execPhrase, netPhrase, fsPhrase, msgPhrase,
	bulkPhrase, adminPhrase, irrevPhrase, moneyPhrase, execHints, sandboxHints, fetchHints)

// saysAny is anyPhrase for phrases that a negation before them turns
// round ("without starting a shell command").
func saysAny(text string, phrases []string) (string, bool) {
	for _, p := range phrases {
		if says(text, p) {
			return p, true
		}
	}
	return "", false
}

// envNouns name where code runs: in a longer name without a running verb
// they are the namespace of a server's tools ("sandbox_list",
// "bash_sandbox_stop", "bash_read_file"), not what the tool does.
var envNouns = set("sandbox", "shell", "bash", "terminal", "repl", "python", "javascript", "powershell",
	// what runs, named as the object of a tool that may only manage it
	// ("sql_server_create", "site_scripts_list", "ssh_command_alias")
	"sql", "script", "scripts", "command", "commands")

// runVerbs run what they are given.
var runVerbs = set("run", "exec", "execute", "eval", "invoke", "start", "call", "query")

// execNameWord is the word of a name that says the tool runs code: its
// first exec word that is not an environment noun, or else an environment
// noun when it is the whole name or a running verb goes with it.
func execNameWord(name []string, verb, source string) (string, bool) {
	env := ""
	for _, w := range name {
		if !execWords[w] {
			continue
		}
		if !envNouns[w] {
			return w, true
		}
		if env == "" {
			env = w
		}
	}
	// An environment noun alone ("bash") runs in it; in a longer name
	// only with a running verb ("run_python", "bash_sandbox_run").
	if env != "" && (len(name) == 1 || anyIn(name, runVerbs) || source != "name" && runVerbs[verb]) {
		return env, true
	}
	return "", false
}

// notMoneyAfter follow a money noun that names no movement of money.
var notMoneyAfter = set("method", "methods", "gateway", "gateways", "group", "groups", "account", "accounts", "policy", "policies")

// notMoneyBefore precede a money noun that is no money: a notification's
// or a webhook's subscription.
var notMoneyBefore = set("notification", "notifications", "event", "events", "webhook", "webhooks", "alert", "alerts", "topic", "topics",
	// a "memory bank" keeps notes
	"memory")

// transactionActions reports whether an action property of the tool
// lists a database transaction's steps ("begin, commit, rollback").
func (c *classifier) transactionActions() bool {
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 && actionNames[p.joined] && hasWord(p.desc, "commit") && hasWord(p.desc, "rollback") {
			return true
		}
	}
	return false
}

// dbTransaction: a database's transaction ("begin_transaction",
// "execute_in_transaction") or a document attached to one moves no money.
func dbTransaction(toks []string) bool {
	if !contains(toks, "transaction") && !contains(toks, "transactions") {
		return false
	}
	if anyIn(toks, databaseWords) || anyIn(toks, dbTxVerbs) {
		return true
	}
	for i, t := range toks {
		if (t == "transaction" || t == "transactions") && i > 0 && txBounds[toks[i-1]] {
			for _, u := range toks {
				if u != t && moneyNouns[u] {
					return false
				}
			}
			return true
		}
	}
	return false
}

// dbTxVerbs, next to "transaction", make it a database's, or name what is
// attached to one.
var dbTxVerbs = set("begin", "commit", "rollback", "execute", "in", "status", "attachment", "attach", "file")

// txBounds, right before "transaction", start or end a database's
// ("start-transaction"), when the name names no other money.
var txBounds = set("start", "end", "abort")

// paymentMethod: a "payment method" is an instrument, not a movement.
func paymentMethod(toks []string) bool {
	for i, w := range toks {
		// a payment method, a payment gateway, a discount group, a
		// payment account:
		// instruments, configuration and groupings, not a movement of
		// money
		if (moneyNouns[w] || w == "card") && i+1 < len(toks) && notMoneyAfter[toks[i+1]] {
			return true
		}
		if moneyNouns[w] && i > 0 && notMoneyBefore[toks[i-1]] && (toks[i-1] != "memory" || w == "bank" || w == "banks") {
			return true
		}
	}
	return false
}

// credentialSettings reports whether a property named for a credential
// configures it rather than carrying it: an object of settings
// ("refresh_token": {"rotation_type", "token_lifetime"}), whose members
// are judged on their own, or a setting of one ("token_lifetime",
// "jwt_configuration").
func (c *classifier) credentialSettings(p *prop) bool {
	if settingWords[p.toks[len(p.toks)-1]] {
		return true
	}
	if p.typ == "object" {
		return true
	}
	for i := range c.props {
		if q := &c.props[i]; q.depth == p.depth+1 && len(q.path) > len(p.path) && q.path[len(p.path)] == '.' && strings.HasPrefix(q.path, p.path) {
			return true
		}
	}
	return false
}

// Has reports whether a signal has been found so far.
func (c *classifier) Has(code string) bool { _, ok := c.ev[code]; return ok }

func (c *classifier) properties(q func(string) string, inDesc func(list int) (string, bool), head []string, lead string) {
	total := len(c.props)
	if c.top >= paramsHigh {
		c.label[SigParams] = fmt.Sprintf("High parameter count (%d properties)", c.top)
		c.add(SigParams, "property-count", fmt.Sprintf("%d top-level properties (threshold %d)", c.top, paramsHigh))
	} else if total >= paramsNested {
		c.label[SigParams] = fmt.Sprintf("High parameter count (%d properties)", total)
		c.add(SigParams, "property-count", fmt.Sprintf("%d properties at any depth (threshold %d)", total, paramsNested))
	}
	remote := false
	for i := range c.props {
		if c.props[i].depth == 1 && remoteNames[c.props[i].joined] {
			remote = true
		}
	}
	// Files of a sandbox or an in-memory file system are not on the
	// server's disk.
	if c.sandboxed {
		remote = true
	}
	// An online store's paths: read only for a property named like a path.
	storeChecked, inStore := false, false
	stored := func() bool {
		if !storeChecked {
			storeChecked, inStore = true, c.storeServer || hasAnyPhrase(c.signalText(), storeHints)
		}
		return inStore
	}
	// A file sent in the call as base64 is named, not read from disk: its
	// file and filename are not paths.
	inline := false
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 && p.typ == "string" && containsFoldASCII(p.desc, "base64") {
			inline = true
		}
	}
	// A tool whose name's object is records ("list_objects") works on
	// the records themselves, not on their schema ("list_properties").
	recordsTool := anyIn(head, recordNouns)
	// A folder path of a mailbox is on the mail server.
	_, mailbox := anyWord(c.nameToks, mailboxWords)
	// A draft is stored, not sent: its recipients message no one yet.
	draft := contains(c.nameToks, "draft") || contains(c.nameToks, "drafts")
	// A tool that saves its inputs to a file ("save_credentials_to_file")
	// writes the URLs it is given; it does not call them.
	toFile := (c.verb == "save" || c.verb == "write" || c.verb == "export") && anyIn(c.nameToks, fsWords)
	// Amounts in a quote or an estimate bill no one.
	offerOnly := anyIn(head, offerNouns)
	// A username given with a password or a token signs in: it is a
	// login's, not a record of a person.
	login := false
	// A URL given to a tool that looks up, removes or saves a record
	// names it or is stored in it; the tool does not go there, unless
	// its description says it fetches.
	urlData := c.verbSource == "name" && (lookupVerbs[c.verb] || storeVerbs[c.verb]) && !c.leadFetches
	siteRecord := c.category == Read && anyIn(c.nameToks, webPlatforms)
	domainTool := anyIn(c.nameToks, domainWords)
	// "freee_api_post", "make_api_request": a tool that sends an API
	// request the caller writes, whose path is the API's and body JSON.
	apiCall := contains(c.nameToks, "api") && (anyIn(c.nameToks, httpMethods) || contains(c.nameToks, "request")) || c.apiMethod() != ""
	// A body next to a method or headers is an HTTP request's, and so is
	// an API call's.
	httpRequest := apiCall
	hasTo := false
	sib := ""
	// "from" and "to" beside a time window ("lookbackMinutes") bound
	// the window: times, not people.
	hasFrom, timed := false, false
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 {
			if p.typ != "boolean" && !isRef(p) && (contains(p.toks, "password") || contains(p.toks, "token") || contains(p.toks, "secret")) {
				login = true
			}
			if p.joined == "headers" || p.joined == "method" && !operationMethod(p) {
				httpRequest = true
			}
			if p.joined == "to" {
				hasTo = true
			} else if msgSiblings[p.joined] {
				sib = p.name
			}
			if p.joined == "from" {
				hasFrom = true
			} else if anyIn(p.toks, timeWords) && !anyIn(p.toks, sendTimeWords) {
				timed = true
			}
			if (p.joined == "email" || p.joined == "phone") && c.notifyAddress == "" {
				c.notifyAddress = p.name
			}
		}
	}
	connects := c.connectsWith(lead) || anyIn(c.nameToks, loginProtocols)
	// On a blockchain a token is a coin and a private key signs the
	// call's transactions: used, not handled.
	chain := func() bool { return c.onChain(lead) } // cached; read only when a rule needs it
	// A tool on a service's own phone numbers (bought, assigned to an
	// assistant) handles no one's personal number.
	phoneRes := phoneResource(c.nameToks, head)
	for i := range c.props {
		p := &c.props[i]
		// The evidence and the lower-cased description are made only
		// for the few properties that need them.
		ev := func() string { return "property " + q(p.path) }
		toks, joined := p.toks, p.joined
		lowDesc, lowered := "", false
		pdesc := func() string {
			if !lowered {
				lowDesc, lowered = strings.ToLower(clip(p.desc, 1024)), true
			}
			return lowDesc
		}
		ref := isRef(p)

		// auth
		if w, ok := anyWord(toks, authWords); ok && !(cookieWords[w] && c.category != Read && !contains(toks, "session") && !hasAnyPhrase(pdesc(), []string{"session", "logged-in", "logged in", "log in", "sign in", "signed-in", "authenticat"})) && !ref && !llmTokens(w, toks) && !pageToken(w, toks) && !idToken(w, toks, pdesc) && !connects && !usedCredential(pdesc) && (!configured(p) || signingSecret(w, pdesc())) && !(p.depth == 1 && c.verbSource == "name" && signerVerbs[c.verb] && signingSecret(w, pdesc())) && !(joined == "env" && !hasAnyPhrase(pdesc(), envVarHints)) && !((w == "token" || w == "tokens") && chain()) && p.typ != "boolean" && !(len(toks) > 1 && connectQualifiers[toks[0]]) && !c.credentialSettings(p) {
			c.add(SigAuth, "property-name", ev())
		} else if w, ok := hasPair(toks, authPairs); ok && p.typ != "boolean" && !ref && !connects && !usedCredential(pdesc) && !configured(p) && !(w == "private key" && chain()) {
			c.add(SigAuth, "property-name", ev())
		} else if p.format == "password" {
			c.add(SigAuth, "property-format", ev()+` has format "password"`)
		} else if len(toks) >= 2 && toks[len(toks)-2] == "auth" && toks[len(toks)-1] == "pass" && (p.typ == "string" || p.typ == "") && !ref {
			// "httpAuthPass": a Basic login's password
			c.add(SigAuth, "property-name", ev())
		}
		// "reveal": true unmasks the secrets the tool returns masked.
		if p.typ == "boolean" && p.depth == 1 && (joined == "reveal" || joined == "unmask" || len(toks) == 2 && (toks[0] == "reveal" || toks[0] == "show" || toks[0] == "include") && (toks[1] == "secrets" || toks[1] == "credentials" || toks[1] == "passwords")) {
			c.add(SigAuth, "property-name", ev()+" reveals secrets")
		}
		if len(toks) > 0 && (toks[0] == "skip" || toks[0] == "bypass" || toks[0] == "disable") && p.typ == "boolean" {
			if _, ok := anyWord(toks[1:], safetyChecks); ok {
				// TLS checks guard the connection, not credentials: the
				// policy still pins them off, without the auth signal.
				if _, tls := anyWord(toks[1:], tlsWords); !tls {
					c.add(SigAuth, "property-name", ev()+" turns off a safety check")
				}
				if p.depth == 1 {
					c.guards = append(c.guards, guard{p.name, map[string]any{"const": false}})
				}
			}
		}
		// pii
		if kindNames[joined] && p.depth == 1 && recordsTool {
			if k, ok := kindOfPeople(pdesc()); ok {
				c.add(SigPII, "property-name", ev()+" picks records of "+q(k))
			}
		}
		// A read-only property is filled by the service, not the caller;
		// a folder's child folders are more of what the tool makes, and
		// what they hold (childFolders[].messages[]) is not this call's.
		// On a blockchain an address is a wallet's or a contract's.
		// A username inside credentials or described for authentication
		// signs in; a "phone" described as
		// a device is a handset model ("desiredPhone": "iPhone 12 Pro").
		if p.typ != "boolean" && !p.readOnly && !underChildren(p.path) && !((contains(toks, "address") || joined == "to" || joined == "from") && chain()) && !(phoneRes && contains(toks, "phone")) && !signInPart(p) && !(contains(toks, "phone") && hasWord(pdesc(), "device") && !hasWord(pdesc(), "number")) {
			if _, ok := anyWord(toks, piiWords); ok && !notPersonal(toks, c.nameToks) && !(p.typ == "object" && settingsDesc(pdesc())) && !((login || forAuthentication(pdesc()) && !anyIn(c.nameToks, personNouns)) && joined == "username") && (!ref || (contains(toks, "email") || contains(toks, "phone")) && (contains(toks, "address") || contains(toks, "number"))) {
				c.add(SigPII, "property-name", ev())
			} else if _, ok := hasPair(toks, piiPairs); ok && !notPersonal(toks, c.nameToks) {
				c.add(SigPII, "property-name", ev())
			} else if piiFormat[p.format] {
				c.add(SigPII, "property-format", ev()+" has format "+q(p.format))
			} else if piiNames[joined] && p.typ != "number" && p.typ != "integer" || joined == "to" && p.depth == 1 && sib != "" && !(hasFrom && timed && !anyIn(c.nameToks, msgNouns) && !anyIn(c.nameToks, chatNouns)) {
				// (a number of guests is a count, not people)
				c.add(SigPII, "property-name", ev()+" (addresses of people)")
			} else if (joined == "to" || joined == "from") && p.depth == 1 && (hasWord(pdesc(), "recipient") || hasWord(pdesc(), "sender")) {
				c.add(SigPII, "property-name", ev()+" described as a recipient or sender")
			} else if (p.typ == "string" || p.typ == "array" || p.typ == "") && !p.enum && c.category != Read && peopleByEmail(pdesc()) {
				// "assignedTo": "The email or name of the user to
				// assign", "addReviewers": "reviewer email addresses".
				c.add(SigPII, "property-description", ev()+" takes people's email addresses")
			}
		}
		// exec
		if execNames[joined] && (p.typ == "string" || p.typ == "") && !p.enum && !c.converter {
			c.add(SigExec, "property-name", ev())
			if joined == "sql" && p.depth == 1 {
				c.sqlProp = p.name
			}
		} else if sqlNames[joined] && (p.typ == "string" || p.typ == "") && !p.enum && (hasWord(pdesc(), "sql") || sqlStatement(pdesc())) {
			// "query": "SQL query to run", "body": "SQL body of the procedure".
			c.add(SigExec, "property-description", ev()+" described as SQL")
			// a body or a definition is stored code, run later by name
			// a CREATE statement makes, it deletes nothing
			if p.depth == 1 && (joined == "query" || joined == "statement") && !hasWord(pdesc(), "select") && !strings.HasPrefix(pdesc(), "create ") {
				c.sqlProp = p.name
			}
		} else if len(toks) > 1 && toks[len(toks)-1] == "command" && (p.typ == "string" || p.typ == "") && !p.enum && c.category != Read {
			// "buildCommand", "startCommand": shell commands a platform runs.
			c.add(SigExec, "property-name", ev()+" is a command to run")
		} else if len(toks) > 0 && toks[0] == "image" && (len(toks) == 1 || len(toks) == 2 && imageRefs[toks[1]]) && p.depth == 1 && (p.typ == "string" || p.typ == "") && !p.enum && c.category != Read && !imageMoves[c.verb] && !anyIn(c.nameToks, imageMoves) && (hasWord(pdesc(), "docker") || hasWord(pdesc(), "container")) {
			// A container image the caller picks ("image", "imageUrl")
			// runs its code; pulling or publishing one runs nothing.
			c.add(SigExec, "property-name", ev()+" is a container image to run")
		} else if len(toks) > 1 && toks[len(toks)-1] == "clause" && (p.typ == "string" || p.typ == "") && !p.enum {
			// "whereClause", "having_clause": query language the caller writes.
			c.add(SigExec, "property-name", ev()+" is a query clause")
		} else if execMaybe[joined] && (p.typ == "string" || p.typ == "") && !p.enum && !namingCode(pdesc()) && !(joined == "expression" && calcExpression(pdesc(), c.nameToks)) {
			if h, ok := anyPhrase(pdesc(), execHints); ok {
				c.add(SigExec, "property-name", ev()+" described as "+q(strings.TrimSpace(h)))
			} else if h, ok := inDesc(phrExecHints); ok {
				c.add(SigExec, "property-name", ev()+" of a tool that mentions "+q(strings.TrimSpace(h)))
			}
		}
		// network
		str := p.typ == "string" || p.typ == ""
		// A URL inside another object (checkout.url, sources[].url) is
		// data about something; a URL shown to people (imageUrl) is
		// fetched by their browsers. Neither is where the tool goes.
		_, asset := anyWord(toks, assetWords)
		switch {
		case p.depth == 2 && str && !p.enum && (joined == "url" || joined == "uri" || p.format == "uri" || p.format == "url") && hasAnyPhrase(pdesc(), deliveryPhrases) && (hookParents[lastWord(parentName(p.path))] || hasWord(pdesc(), "payload") || hasWord(pdesc(), "payloads") || hasWord(pdesc(), "webhook") || hasWord(pdesc(), "events")):
			// a webhook's config.url: "The URL to which the payloads
			// will be delivered"
			c.add(SigNetwork, "property-description", ev()+" described as where deliveries go")
		case p.depth == 1 && str && !p.enum && anyURL(pdesc()):
			// "Recipe ID or full URL (any recipe website URL …)": the
			// server fetches whatever page it is given
			c.add(SigNetwork, "property-description", ev()+" takes any URL")
		case p.depth > 1 || asset || toFile:
		case len(toks) > 1 && recordURLs[toks[0]] && !(toks[0] == "notebook" && (len(toks) != 2 || saysFetch(pdesc()) || hasAnyPhrase(pdesc(), notebookServer))):
		case urlData && (joined == "url" || joined == "uri" || joined == "href" || p.format == "uri" || p.format == "url" || len(toks) == 2 && toks[1] == "url" && recordOwners[toks[0]]) && !saysFetch(pdesc()):
		case c.verbSource == "name" && urlComputeVerbs[c.verb] && !c.leadFetches && (joined == "url" || joined == "uri" || p.format == "uri" || p.format == "url") && !saysFetch(pdesc()):
			// "url_parse": the URL's parts computed, nowhere gone
		case contains(toks, "id") && (contains(toks, "url") || contains(toks, "uri")):
			// "id_or_url": a record named by its id or its link
		case siteRecord && (joined == "url" || joined == "uri" || p.format == "uri" || p.format == "url"):
			// "web_data_amazon_product": a record of the site the name
			// says, by its URL on that site
		case domainTool && (joined == "hostname" || joined == "host" || p.format == "hostname"):
			// the name of a domain being configured, not a place to call
		case c.category == Read && !saysFetch(lead) && (joined == "url" || joined == "uri" || joined == "urls" || len(toks) > 1 && toks[len(toks)-1] == "url" || p.format == "uri" || p.format == "url") && !saysFetch(pdesc()) && (siteURL(pdesc()) || docsPageURL(pdesc()) || hasWord(pdesc(), "rank") || hasWord(pdesc(), "ranks") || len(toks) == 2 && recordOwners[toks[0]] && hasAnyPhrase(pdesc(), registeredPhrases)):
			// "Booking.com hotel URL to check": a page of the site the
			// description names, looked up there; "Returns keywords
			// where this exact URL ranks": a key into search data
		case netFormats[p.format]:
			c.add(SigNetwork, "property-format", ev()+" has format "+q(p.format))
		case str && !p.enum && (netNames[joined] || len(toks) > 1 && netLast[toks[len(toks)-1]] || connString(toks)) && !linkTo(pdesc()) && !(len(toks) > 0 && toks[len(toks)-1] == "uri" && serviceScheme(pdesc())):
			c.add(SigNetwork, "property-name", ev())
		case p.typ == "array" && netLists[joined] && !(anyIn(c.nameToks, cookieWords) && lookupVerbs[c.verb]):
			// (the URLs whose cookies a cookie tool reads are a filter)
			c.add(SigNetwork, "property-name", ev()+" is a list of addresses")
		case str && !p.enum && p.depth == 1 && c.category != Read && saysURL(pdesc()):
			c.add(SigNetwork, "property-description", ev()+" described as an endpoint URL")
		case str && !p.enum && c.category != Read && !contains(c.nameToks, "hover") && (pageNames[joined] || len(toks) > 1 && toks[len(toks)-1] == "element"):
			// An element or CSS selector of a page: the tool drives a
			// browser on whatever site it was navigated to.
			c.add(SigNetwork, "property-name", ev()+" (an element of a live page)")
		}
		// fs
		returnPath := len(toks) > 1 && toks[len(toks)-2] == "return" // an email header
		pathList := p.typ == "array" && (joined == "paths" || joined == "files" || joined == "filenames" || joined == "filepaths" ||
			joined == "attachments" && (hasWord(pdesc(), "path") || hasWord(pdesc(), "paths")))
		// A path nested in another object is a field of a document
		// (an index's fields[].path) unless that object is a file
		// (attachments[].path).
		fileLevel := p.depth == 1 || fileParents[lastWord(parentName(p.path))]
		named := inline && (joined == "file" || joined == "filename" || joined == "files" || joined == "filenames") && !hasWord(pdesc(), "local") ||
			// "Name of the file (e.g., report.pdf)": a name the file gets
			// or has somewhere else; one is a path when it is saved,
			// loaded or resolved ("File name to save the screenshot to").
			strings.HasSuffix(joined, "filename") && !descWord(pdesc(), fileNamePath)
		// "remotePath": on the machine the tool connects to; "cloudPath",
		// "dockerContextPath", "giteaBuildPath": in a store or a
		// repository, not on the server's disk.
		remotePath := len(toks) > 1 && elsewhere[toks[0]] && !localRepo(toks, pdesc) && !(toks[0] == "instance" && hasAnyPhrase(pdesc(), fileWords))
		// "source" and "destination" described as file paths
		// ("copyFile": "Source file path") are paths too.
		endPath := endNames[joined] && p.depth == 1 && strings.Contains(pdesc(), "file path")
		// "requirementsDir": "Absolute path to the requirements directory"
		dirPath := len(toks) > 1 && (toks[len(toks)-1] == "dir" || toks[len(toks)-1] == "directory" || toks[len(toks)-1] == "folder") && strings.Contains(pdesc(), "path")
		if (fsNames[joined] || pathList || endPath || dirPath || len(toks) > 1 && (toks[len(toks)-1] == "path" || toks[len(toks)-1] == "filename")) && !(apiCall && joined == "path") && fileLevel && !named && !remotePath && (str || pathList) && (!(remote || stored()) || len(toks) > 1 && (toks[0] == "local" || c.storeServer && localFirst[toks[0]]) || c.storeServer && c.verb == "upload" && p.depth == 1 || hasWord(pdesc(), "local") || localDir(pdesc())) && !mailbox && !returnPath && !apiPath(p, pdesc) && !innerPath(pdesc()) && !treePath(pdesc()) && !secretStorePath(pdesc()) && !fileContent(p, pdesc()) && !c.forgeProjectPath(p, pdesc()) && !(joined == "path" && anyIn(c.nameToks, cookieWords)) {
			c.add(SigFS, "property-name", ev())
		} else if p.depth == 1 && str && !p.enum && fileOrURL(pdesc()) {
			// "image_source": "Local file path or remote URL to the
			// image": read from the disk, or fetched.
			c.add(SigFS, "property-description", ev()+" takes a local file path")
		}
		if p.depth == 1 && str && !p.enum && fileOrURL(pdesc()) {
			c.add(SigNetwork, "property-description", ev()+" takes a remote URL, which the server fetches")
		}
		// messaging
		if forwardNames[joined] && p.depth <= 2 && (p.typ == "string" || p.typ == "array") && c.category != Read {
			c.add(SigMessaging, "property-name", ev()+" (forwards mail to an address)")
		}
		// "sendResponse", "sendNotifications": a switch that tells people.
		// "sendUpdates": all, externalOnly, none.
		if (p.typ == "boolean" || p.enum) && len(toks) == 2 && toks[0] == "send" && sentToPeople[toks[1]] && c.category != Read {
			c.add(SigMessaging, "property-name", ev()+" (sends it to people)")
		}
		if msgNames[joined] || len(toks) > 0 && toks[0] == "notify" || joined == "to" && p.depth == 1 && hasTo && sib != "" {
			// "notify": "Send email notification when indexing
			// completes" tells the account its job is done.
			jobDone := p.typ == "boolean" && joined == "notify" && hasWord(pdesc(), "when") && (hasWord(pdesc(), "completes") || hasWord(pdesc(), "finishes") || hasWord(pdesc(), "completed") || hasWord(pdesc(), "finished")) && !descWord(pdesc(), notifiedPeople)
			if c.category != Read && !draft && !jobDone {
				e := ev()
				if joined == "to" {
					e += " next to " + q(sib)
				}
				c.add(SigMessaging, "property-name", e)
			}
		}
		// "emails": "Email addresses for notifications" sets up mail
		// to the addresses the caller gives.
		if (contains(toks, "email") || contains(toks, "emails")) && (p.typ == "string" || p.typ == "array") && c.category != Read && !draft && hasAnyPhrase(pdesc(), notifyPhrases) && !hasWord(pdesc(), "id") && !hasAnyPhrase(pdesc(), unnotifyPhrases) {
			c.add(SigMessaging, "property-description", ev()+" takes addresses to notify")
		}
		// Saving an event with attendees sends them invitations.
		if inviteNames[joined] && p.depth == 1 && c.category != Read && !draft {
			c.add(SigMessaging, "property-name", ev()+" (invited by the event)")
		}
		// bulk
		if p.typ == "array" && len(toks) > 0 && bulkPlurals[toks[len(toks)-1]] && !contains(toks, "backup") && !contains(toks, "recovery") {
			c.add(SigBulk, "property-type", ev()+" is an array")
		}
		// money
		// An amount of pixels or steps ("browser_scroll") is not money.
		if (moneyNames[joined] || len(toks) > 1 && moneyLast[toks[len(toks)-1]] && !limitWords[toks[0]]) && !ref && !c.readVerb && !offerOnly && !anyIn(c.nameToks, mockWords) && !hasWord(pdesc(), "pixels") && !contains(c.nameToks, "scroll") {
			c.add(SigMoney, "property-name", ev())
		}
		// admin
		if adminNames[joined] || len(toks) > 1 && adminNames[toks[len(toks)-1]] && toks[len(toks)-1] != "owner" {
			c.add(SigAdmin, "property-name", ev())
		}
		// body: see docs/scanner.md, "The body signal".
		switch {
		case httpRequest && joined == "body", p.wrapper:
		case p.typ == "string" && p.depth == 1 && !p.enum && contains(c.nameToks, "template") && c.category != Read && templateText[joined]:
			// A template's message is rendered for each recipient.
			c.add(SigBody, "body-string", ev()+" is a template's text")
			c.guard(p, map[string]any{"maxLength": BodyMaxLength})
		case (p.typ == "string" || p.typ == "") && p.depth <= 3 && !p.enum && (joined == "content" || joined == "body") && c.htmlTypeSibling(p):
			// Outlook's itemBody: {"content", "contentType": text|html}.
			c.add(SigBody, "body-string", ev()+" is HTML when its content type says so")
			c.guard(p, map[string]any{"maxLength": BodyMaxLength})
		case p.typ == "string" && p.depth == 1 && joined == "description" && c.category != Read && c.codeReviewRecord() && !plainOrCode(pdesc()):
			// An issue's or a pull/merge request's description is the
			// Markdown its tracker renders for everyone who opens it.
			c.add(SigBody, "body-string", ev()+" is an issue's or a pull request's Markdown description")
			c.guard(p, map[string]any{"maxLength": BodyMaxLength})
		// An HTTP response's or request's body ("response_body") is data.
		case (p.typ == "string" || p.typ == "") && p.depth <= 2 && !p.enum && (bodyNames[joined] || len(toks) > 1 && bodyNames[toks[len(toks)-1]] && toks[len(toks)-1] != "content" && !httpParts[toks[0]]) && !plainOrCode(pdesc()) && !forModel(p, pdesc()):
			c.add(SigBody, "body-string", ev()+" is free text named like markup")
			c.guard(p, map[string]any{"maxLength": BodyMaxLength})
		case p.typ == "string" && !ref && !p.enum && !fsNames[joined] && !returnPath && !pageNames[joined] && !urlNamed(p) && !((joined == "style" || joined == "css") && !hasWord(strings.ReplaceAll(pdesc(), "html=", ""), "html")) && (len(toks) == 0 || toks[len(toks)-1] != "type" && toks[len(toks)-1] != "format") && !(len(toks) > 1 && toks[len(toks)-1] == "path") && (bodyFormats[strings.ToLower(p.format)] || hasWord(pdesc(), "html") || hasWord(pdesc(), "markdown") || descWord(pdesc(), templateLanguages)) && !hasWord(pdesc(), "base64"):
			c.add(SigBody, "body-string", ev()+" is a string described as HTML or a template")
			c.guard(p, map[string]any{"maxLength": BodyMaxLength})
		case p.freeForm:
			if w, ok := anyWord(toks, bodyExposed); ok {
				c.add(SigBody, "body-object", ev()+" is a free-form object, "+q(w)+" (shown to a frontend)")
				c.guard(p, map[string]any{"maxProperties": BodyMaxProps})
			} else if w, ok := anyWord(words(pdesc(), 64, 1024), bodyExposed); ok {
				c.add(SigBody, "body-object", ev()+" is a free-form object described as "+q(w))
				c.guard(p, map[string]any{"maxProperties": BodyMaxProps})
			} else if w, ok := anyWord(c.nameToks, bodyExposedTool); ok && p.depth == 1 && c.category != Read {
				c.add(SigBody, "body-object", ev()+" is a free-form object of a "+q(w)+" tool")
				c.guard(p, map[string]any{"maxProperties": BodyMaxProps})
			}
		}
	}
}

// containsFoldASCII reports whether s holds the lower-case ASCII word w in
// any case, without copying s.
func containsFoldASCII(s, w string) bool {
	return indexFoldASCII(s, w) >= 0
}

// indexFoldASCII is strings.Index of a lower-case ASCII word w in s, in
// any case, without lowering s, or -1.
func indexFoldASCII(s, w string) int {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for ; j < len(w); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != w[j] {
				break
			}
		}
		if j == len(w) {
			return i
		}
	}
	return -1
}

// machineProfile reports whether a profile is a browser's, a connection's,
// a configuration's or a company's ("create_profile": "Creates a
// persistent browser profile"), not a person's.
func machineProfile(w string, name []string, lead string) bool {
	if w != "profile" && w != "profiles" {
		return false
	}
	for _, q := range []string{"browser", "ssh", "connection", "server", "config", "configuration", "aws", "cli", "company", "organization", "organisation", "business",
		// a device's or an alarm's settings ("protect_list_arm_profiles"),
		// a media server's quality and metadata settings
		"arm", "alarm", "device", "camera", "network", "security", "power", "quality", "metadata",
		// a program's performance profile
		"pyroscope", "cpu", "heap", "profiling"} {
		if contains(name, q) || hasWord(lead, q) {
			return true
		}
	}
	return false
}

// personRecords reports whether a name's object is what is recorded about
// a person ("subscriber_activity", "candidate_notes"): a person noun right
// before a head of aboutNouns.
func personRecords(name, head []string) (string, bool) {
	if len(head) == 0 || !aboutNouns[head[0]] {
		return "", false
	}
	for i := 1; i < len(name); i++ {
		if name[i] == head[0] && personNouns[name[i-1]] {
			return name[i-1], true
		}
	}
	return "", false
}

// notPersonal reports whether a property named like personal data is not:
// a zip archive ("zipFile"), or the IP addresses of a firewall rule or a
// network range ("start-ip-address" on "firewall-rule_create").
func notPersonal(toks, name []string) bool {
	if contains(toks, "zip") && (contains(toks, "file") || contains(toks, "archive")) {
		return true
	}
	// "usernameSelector", "emailField": where a form's field is, not
	// what it holds.
	if n := len(toks); n > 1 && fieldWords[toks[n-1]] {
		return true
	}
	// "jobFullName", "parentFullName": the full name of a job or a
	// folder, not a person's ("authorFullName" is one).
	if n := len(toks); n == 3 && toks[2] == "name" && nameKinds[toks[1]] && namedThings[toks[0]] {
		return true
	}
	if contains(toks, "ip") && (contains(toks, "start") || contains(toks, "end") || contains(toks, "range") || anyIn(name, networkObjects)) {
		return true
	}
	// A debugger's address is in memory; a geocoder's is a place's.
	if contains(toks, "address") && (anyIn(name, memoryTools) || anyIn(name, geocodeWords)) {
		return true
	}
	return false
}

// memoryTools, in a tool's name, work on a process's memory: its
// addresses are in memory, not people's.
var memoryTools = set("x64dbg", "dbg", "debugger", "gdb", "lldb", "disassembly", "disassemble", "breakpoint", "breakpoints")

// geocodeWords, in a tool's name, turn places' addresses into
// coordinates.
var geocodeWords = set("geocode", "geocoding")

// phoneResource reports whether a tool's object is phone numbers
// themselves ("list_phone_numbers", "create_phone_number"): numbers a
// voice or SMS service rents out, not people's.
func phoneResource(name, head []string) bool {
	return contains(name, "phone") && len(head) > 0 && (head[0] == "number" || head[0] == "numbers")
}

// handlesCredential reports whether some mention of a credential phrase
// in lead is about credentials the tool handles. Not: a part of another
// word ("1Password"), a product ("Password Manager"), a credential the
// tool connects with ("a sudo password"), one the call needs ("requires a
// global API key"), a negated one ("No API key required") or an example's.
func handlesCredential(lead, phrase string) bool {
	for off := 0; ; {
		i := strings.Index(lead[off:], phrase)
		if i < 0 {
			return false
		}
		i += off
		off = i + len(phrase)
		if i > 0 && isWordByte(lead[i-1]) || strings.HasPrefix(lead[off:], " manager") {
			continue
		}
		before := lead[max(0, i-40):i]
		ws := words(before, 64, 64)
		if len(ws) > 0 && connectQualifiers[ws[len(ws)-1]] {
			continue
		}
		if len(ws) > 3 {
			ws = ws[len(ws)-3:]
		}
		if _, neg := anyWord(ws, negations); neg {
			continue
		}
		near := before[max(0, len(before)-24):]
		if strings.Contains(near, "require") || strings.Contains(near, "needs a") || strings.Contains(before, "example") {
			continue
		}
		return true
	}
}

// apiVersion reports whether a name's word is an API version ("v1", "v2beta").
func apiVersion(w string) bool {
	return len(w) >= 2 && w[0] == 'v' && w[1] >= '0' && w[1] <= '9'
}

// onChain reports whether a tool works on a blockchain: its name says
// ERC-20 or NFT, or its lead or a top-level property's description speaks
// of wallets, contracts, ENS names or 0x addresses. There a token is a
// coin, an address a wallet's or a contract's (no one's personal data),
// and a private key signs the transactions the call makes.
func (c *classifier) onChain(lead string) bool {
	if c.chainSet {
		return c.chain
	}
	c.chainSet = true
	if _, ok := anyWord(c.nameToks, chainWords); ok {
		c.chain = true
		return true
	}
	has := func(d string) bool {
		d = strings.ToLower(d)
		for _, w := range chainPhrases {
			if strings.Contains(d, w) {
				return true
			}
		}
		return false
	}
	if has(lead) {
		c.chain = true
		return true
	}
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 && has(p.desc) {
			c.chain = true
			return true
		}
	}
	return false
}

// onLivePage reports whether a tool works on a browser's page: it takes
// the page or tab it acts on, or its lead says it acts on an element or
// in a browser.
func (c *classifier) onLivePage(lead string) bool {
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 && (p.joined == "pageid" || p.joined == "tabid") && p.typ != "string" {
			return true
		}
	}
	return hasWord(lead, "element") || hasWord(lead, "browser")
}

// htmlTypeSibling reports whether a property of the same object as p
// is a type (contentType, bodyType) that lists "html" among its values.
func (c *classifier) htmlTypeSibling(p *prop) bool {
	parent := ""
	if i := strings.LastIndexByte(p.path, '.'); i >= 0 {
		parent = p.path[:i+1]
	}
	for i := range c.props {
		q := &c.props[i]
		if q.enumHTML && q.depth == p.depth && len(q.toks) > 1 && q.toks[len(q.toks)-1] == "type" && strings.HasPrefix(q.path, parent) && strings.IndexByte(q.path[len(parent):], '.') < 0 {
			return true
		}
	}
	return false
}

// underChildren reports whether a property is held by a collection of
// child objects ("childFolders[].messageRules[]…", "children[].…").
func underChildren(path string) bool {
	if !containsFoldASCII(path, "child") {
		return false // the common path, without lowering every segment
	}
	for {
		i := strings.IndexByte(path, '.')
		if i < 0 {
			return false
		}
		seg := strings.ToLower(path[:i])
		if strings.HasPrefix(seg, "child") {
			return true
		}
		path = path[i+1:]
	}
}

// parentName is the name of the property that holds the property at
// path ("attachments" for "attachments[].path"), or "".
func parentName(path string) string {
	i := strings.LastIndexByte(path, '.')
	if i < 0 {
		return ""
	}
	parent := strings.TrimSuffix(path[:i], "[]")
	if j := strings.LastIndexByte(parent, '.'); j >= 0 {
		parent = parent[j+1:]
	}
	return strings.TrimSuffix(parent, "[]")
}

// lastWord is the last word of a property name.
func lastWord(name string) string {
	toks := tokens(name, 16)
	if len(toks) == 0 {
		return ""
	}
	return toks[len(toks)-1]
}

// hasWord reports whether text holds w as a whole word.
func hasWord(text, w string) bool {
	if !strings.Contains(text, w) {
		// text is lower-case: without w in it, no word of it is w.
		return false
	}
	_, ok := anyWord(words(text, 256, 1024), set(w))
	return ok
}

func contains(toks []string, w string) bool {
	for _, t := range toks {
		if t == w {
			return true
		}
	}
	return false
}

// llmTokens: "max_tokens" and the like count model tokens, not secrets.
func llmTokens(w string, toks []string) bool {
	if w != "token" && w != "tokens" {
		return false
	}
	// "number" and "maximum" count only model tokens in the plural
	// ("maximum_number_of_tokens"), not "card_number_token".
	for _, t := range toks {
		if llmCountWords[t] && (t != "number" && t != "maximum" || w == "tokens") {
			return true
		}
	}
	return false
}

// guard is an args rule the recommended policy puts on a property.
type guard struct {
	prop   string
	schema map[string]any
}

func (c *classifier) guard(p *prop, schema map[string]any) {
	if p.depth == 1 {
		c.guards = append(c.guards, guard{p.name, schema})
	}
}

// anyIn reports whether any of toks is in ws.
func anyIn(toks []string, ws map[string]bool) bool {
	_, ok := anyWord(toks, ws)
	return ok
}

// pageToken: "page_token", "next_token" and the like page through
// results; they are not credentials.
func pageToken(w string, toks []string) bool {
	if w != "token" && w != "tokens" {
		return false
	}
	_, ok := anyWord(toks, pageWords)
	return ok
}

// connectsWith reports whether a tool opens a connection with the key it
// is given ("init", "Initialize connection to n8n instance"): it uses the
// key, it does not handle one.
func (c *classifier) connectsWith(lead string) bool {
	_, ok := anyWord(c.nameToks, connectVerbs)
	return ok && (strings.Contains(lead, "connect") || anyIn(c.nameToks, connectTargets))
}

// connectTargets, in a connecting tool's name, are what it connects to
// ("connect_database", described in any language).
var connectTargets = set("database", "db", "server", "host", "instance", "cluster")

// usedCredential reports whether a credential's description says the
// call authenticates with it ("API key for authentication", "Proxy
// password"): it is used, not handled.
func usedCredential(pdesc func() string) bool {
	d := pdesc()
	if strings.Contains(d, "for authentication") || strings.Contains(d, "to authenticate") || strings.Contains(d, "for authorization") || strings.HasPrefix(d, "bearer token") || omitForSession(d) {
		return true
	}
	first, _, _ := strings.Cut(d, " ")
	return connectQualifiers[first]
}

// omitForSession reports whether a credential's description says to omit
// it to use a signed-in session ("Omit to use cached session from
// sbox_open_login"): the call is authenticated, the value not handled. A
// value omitted for a generated or existing one is still handled.
func omitForSession(d string) bool {
	i := strings.Index(d, "omit to use")
	if i < 0 {
		return false
	}
	rest := d[i+len("omit to use"):]
	if j := strings.IndexAny(rest, ".;"); j >= 0 {
		rest = rest[:j]
	}
	return hasWord(rest, "session") || hasWord(rest, "login")
}

// signingSecret reports whether a secret in a configuration object is
// the one the service signs its deliveries with ("The secret used to sign
// webhook deliveries"): set with the configuration, it is the service's
// credential, not one the call uses.
func signingSecret(w, d string) bool {
	if w != "secret" || !(hasWord(d, "sign") || hasWord(d, "signing") || hasWord(d, "signature") || hasWord(d, "signatures")) {
		return false
	}
	return !hasAnyPhrase(d, []string{"sign in", "sign-in", "sign into", "signing in", "sign up", "sign-up", "sign on"})
}

// setupWords say a check reports how something is set up; revealWords
// that it shows what is set.
var (
	setupWords  = set("configuration", "setup", "status", "whether", "configured")
	revealWords = set("print", "prints", "list", "lists", "return", "returns", "dump", "dumps", "display", "displays", "reveal", "reveals", "show", "shows", "contents", "value", "values", "output", "outputs", "echo", "echoes", "export", "exports", "expose", "exposes", "including")
)

// notifiedPeople, in a notify switch's description, are told, not the
// account.
var notifiedPeople = set("customer", "customers", "user", "users", "member", "members", "recipient", "recipients", "attendee", "attendees", "client", "clients", "contact", "contacts", "people", "everyone", "team", "subscribers")

// notifyPhrases describe addresses that notifications go to;
// unnotifyPhrases a setting that stops them.
var (
	notifyPhrases   = []string{"for notifications", "for notification", "to notify", "notification recipients", "to be notified", "to receive notifications"}
	unnotifyPhrases = []string{"stop sending", "stop notif", "no longer", "to remove", "to be removed", "unsubscribe", "disable", "to stop"}
)

// forAuthentication reports whether a property is described as used to
// sign in ("Optional username for basic authentication"), not as needing
// none ("no authentication needed").
func forAuthentication(d string) bool {
	if strings.Contains(d, "no authentication") || strings.Contains(d, "without authentication") {
		return false
	}
	if strings.Contains(d, "to authenticate") {
		return true
	}
	i := strings.Index(d, "authentication")
	return i >= 0 && strings.Contains(d[max(0, i-20):i], "for ")
}

// mockWords name a test double: a mock webhook's "amount" moves no money.
var mockWords = set("mock", "fake", "dummy", "simulate", "simulated")

// nameAuthPairs, in a tool's name, are credentials: those of properties,
// and a Basic login's password ("set_http_auth_pass").
var nameAuthPairs = append([][2]string{{"auth", "pass"}}, authPairs...)

// signerVerbs use a signing secret the caller gives to sign or check a
// delivery ("verify_webhook_signature", "trigger_mock_webhook"); they
// neither store nor reveal it.
var signerVerbs = set("verify", "validate", "check", "sign", "trigger", "simulate", "test")

// configured reports whether a credential sits in a configuration object
// of another service the call uses ("s3Config.accessSecret"): given to
// use, not handled.
func configured(p *prop) bool {
	if p.depth < 2 {
		return false
	}
	switch lastWord(parentName(p.path)) {
	case "config", "configuration", "settings", "options":
		return true
	case "proxy":
		// a browser's proxy, not a service that is one ("reverse_proxy")
		return strings.EqualFold(parentName(p.path), "proxy")
	}
	return false
}

// idToken reports whether a token names a document, a folder or an
// operation rather than granting access: Lark's "app_token" ("Base unique
// App identifier"), "folder_token", a file's "token", an idempotency
// "client_token"; or a secret that is part of an upload's address.
func idToken(w string, toks []string, pdesc func() string) bool {
	if w == "secret" {
		return hasAnyPhrase(pdesc(), secretOwners)
	}
	if w != "token" {
		return false
	}
	d := pdesc()
	if _, ok := anyWord(toks, tokenOwners); ok && !(contains(toks, "claim") && (strings.Contains(d, "access token") || strings.Contains(d, "bearer") || strings.Contains(d, "oauth") || strings.Contains(d, "authenticat"))) {
		return true
	}
	return strings.Contains(d, "identifier") || strings.Contains(d, "idempoten") || strings.Contains(d, "token of the file") || strings.Contains(d, "cloud document")
}

// saysFetch reports whether a URL's description says the tool goes there
// or sends its traffic through it (a proxy); an example address ("For
// example: http://www.example.com/") does not.
func saysFetch(d string) bool {
	if strings.Contains(d, "proxy") {
		return true
	}
	for _, h := range fetchHints {
		for off := 0; off < len(d); {
			i := strings.Index(d[off:], h)
			if i < 0 {
				break
			}
			i += off
			if rest := d[i+len(h):]; h != "http" || !strings.HasPrefix(rest, "://") && !strings.HasPrefix(rest, "s://") {
				return true
			}
			off = i + len(h)
		}
	}
	return false
}

// recordOwners, before "url", name what a URL is the key of: a site
// ("siteUrl" of a site registered with the service).
var recordOwners = set("site", "property")

// registeredPhrases say a URL is the key a service keeps a site under
// ("The site URL as defined in Search Console").
var registeredPhrases = []string{"as defined in", "as registered in", "as it appears in", "as listed in"}

// serviceScheme reports whether every address a description shows is in
// a service's own scheme ("in the form hf://models/OWNER/NAME"): a name
// of a thing the service keeps, not a host to reach.
func serviceScheme(d string) bool {
	seen := false
	for off := 0; off < len(d); {
		i := strings.Index(d[off:], "://")
		if i < 0 {
			break
		}
		i += off
		j := i
		for j > 0 && (isLetter(d[j-1]) || '0' <= d[j-1] && d[j-1] <= '9' || d[j-1] == '+' || d[j-1] == '-' || d[j-1] == '.') {
			j--
		}
		if j == i {
			return false
		}
		// "mongodb+srv", "git+ssh", "svn+ssh": any part that reaches a
		// host makes it a place
		for _, part := range strings.FieldsFunc(d[j:i], func(r rune) bool { return r == '+' || r == '-' || r == '.' }) {
			if netSchemes[part] {
				return false
			}
		}
		seen = true
		off = i + 3
	}
	return seen && !hostLike(d)
}

// hostLike: a description that shows a host (a dotted name, a port,
// localhost) names a place whatever its scheme.
func hostLike(d string) bool {
	for off := 0; off < len(d); {
		i := strings.Index(d[off:], "://")
		if i < 0 {
			return false
		}
		i += off
		end := i + 3
		for end < len(d) && d[end] != '/' && d[end] != ' ' {
			end++
		}
		if auth := d[i+3 : end]; strings.ContainsAny(auth, ".:@") || auth == "localhost" {
			return true
		}
		off = i + 3
	}
	return false
}

// netSchemes reach a host: an address in one is a place to go.
var netSchemes = set("http", "https", "ws", "wss", "ftp", "ftps", "sftp", "ssh", "tcp", "udp", "smtp", "smtps", "imap", "imaps", "redis", "rediss", "postgres", "postgresql", "mysql", "mongodb", "amqp", "amqps", "mqtt", "git", "ldap", "ldaps", "rtsp", "telnet", "grpc", "jdbc", "file", "srv", "svn", "s3", "gs", "az", "abfs", "abfss", "hdfs", "webdav", "dav", "nntp", "irc", "xmpp", "sip", "rtmp", "nats", "kafka", "opc", "modbus", "coap", "bolt", "neo4j", "sqlserver", "mssql", "oracle", "clickhouse", "cassandra", "couchbase", "memcached", "smb", "cifs", "nfs", "rsync", "socks", "socks4", "socks5", "rdp", "vnc", "dns", "tls", "ssl", "snowflake", "trino", "presto", "redshift", "elasticsearch", "etcd", "zookeeper", "ipfs", "gopher", "wasb", "wasbs")

// urlNamed reports whether a property is a URL by its name or format: the
// address of a page, never its markup ("url": "URL of the web page to
// convert to Markdown").
func urlNamed(p *prop) bool {
	n := len(p.toks)
	return p.joined == "url" || p.joined == "uri" || p.joined == "href" || n > 1 && (p.toks[n-1] == "url" || p.toks[n-1] == "uri") || p.format == "uri" || p.format == "url"
}

// deviceWords, in a tool's name, put a press or a click on a phone's or a
// simulator's screen.
var deviceWords = set("mobile", "android", "ios", "adb", "screen", "device", "simulator", "emulator", "ui")

// anyURL reports whether a description says any URL or any website may be
// given: "any" and, within the next two words, url, urls, website or site.
func anyURL(d string) bool {
	for off := 0; off < len(d); {
		i := strings.Index(d[off:], "any ")
		if i < 0 {
			return false
		}
		i += off
		off = i + 4
		if i > 0 && isLetter(d[i-1]) {
			continue
		}
		ws := strings.Fields(d[i+4 : min(len(d), i+40)])
		for k := 0; k < len(ws) && k < 3; k++ {
			w := strings.Trim(ws[k], ".,;:()")
			switch w {
			case "url", "urls", "website", "websites", "site", "sites":
				return true
			case "in", "of", "for", "from", "with", "field", "fields":
				// "any field in urls section": a field, not an address
				k = 3
			}
		}
	}
	return false
}

// urlComputeVerbs take a URL apart or put it in shape without going
// there.
// ("validate" is left out: validating a URL as often means checking it
// answers.)
var urlComputeVerbs = set("parse", "encode", "decode", "format", "normalize")

// timeWords name a window of time ("lookbackMinutes", "since"), not a
// moment a message is sent at ("sendTime"), a delay before it is sent
// ("delayMinutes", "sendInHours") or how long it lasts ("validUntil",
// "expiresInDays") (sendTimeWords). A tool whose name says it handles
// messages ("search_messages", "send_sms") has senders and recipients
// whatever window it reads.
var timeWords = set("lookback", "minutes", "hours", "days", "since", "until")

// sendTimeWords, in a property named for a time, make it a message's.
var sendTimeWords = set("send", "sent", "delay", "delayed", "schedule", "scheduled", "deliver", "delivery", "valid", "expire", "expires", "expiry", "ttl", "retry")

// chatNouns name channels of messages that msgNouns do not.
var chatNouns = set("mails", "inbox", "chat", "chats", "conversation", "conversations", "thread", "threads", "mms", "fax", "whatsapp", "telegram", "slack", "sms")

// ipLookups, with "ip" in a reader's name, locate an IP address.
var ipLookups = set("lookup", "geolocate", "geolocation", "geo", "whois", "locate", "info", "location")

// gitHistory, with "git" in a reader's name, show commits and their authors.
var gitHistory = set("log", "show", "blame")

// localRepo reports whether a repository's path is a Git working copy
// on the server's disk ("repo_path": "Path to Git repository", "Path to
// directory to initialize git repo"), not a repository on a code host.
func localRepo(toks []string, pdesc func() string) bool {
	if toks[0] != "repo" && toks[0] != "repository" && toks[0] != "git" {
		return false
	}
	return hasAnyPhrase(pdesc(), []string{"path to git repo", "path to the git repo", "path to a git repo", "directory", "folder", "local"})
}

// innerPaths describe a path inside a document or an archive the
// service holds ("The internal file path in the EPUB"), not on the
// server's disk.
var innerPaths = []string{"internal file path", "internal path", "path within the", "path inside the"}

// treePaths describe a path through a tree of objects ("Parent instance
// path", "Instance path (dot notation)"), not through folders.
var treePaths = []string{"instance path", "dot notation"}

// notebookServer words make a notebook's URL a server the tool goes to.
var notebookServer = []string{"server", "jupyter", "connect", "download", "kernel", "any url"}

// treePath reports whether a path's description makes it a path through a
// tree of objects (a treePaths phrase) and names no file, folder or disk.
func treePath(d string) bool {
	return hasAnyPhrase(d, treePaths) && !hasAnyPhrase(d, fileWords)
}

// fileWords put a path on a disk.
var fileWords = []string{"file", "folder", "director", "disk", "local", "/"}

// innerPath reports whether a path's description puts it inside a
// document or an archive (an innerPaths phrase and a document word), and
// says nothing of a disk, a folder or a project.
func innerPath(d string) bool {
	if !hasAnyPhrase(d, innerPaths) || !descWord(d, documentWords) {
		return false
	}
	return !descWord(d, diskWords)
}

// documentWords name a document, an archive or a repository with files
// inside it.
var documentWords = set("epub", "pdf", "zip", "archive", "document", "book", "jar", "chapter", "docx", "tar", "repository")

// operationMethod reports whether a "method" property picks one of the
// tool's operations ("create", "update"; "The action to perform … 'add',
// 'remove'"), not an HTTP method: its listed values write with no HTTP
// method among the first that does, or, unlisted, its description says
// operation or action and not HTTP.
func operationMethod(p *prop) bool {
	if p.joined != "method" || p.depth != 1 {
		return false
	}
	if p.enum {
		return p.enumWrites != "" && !httpMethods[strings.ToLower(p.enumWrites)]
	}
	return (hasWord(p.desc, "operation") || hasWord(p.desc, "action")) && !hasWord(p.desc, "http") && !hasWord(p.desc, "HTTP")
}

// fileOrURL reports whether a property's description says it takes a
// local file path or a URL ("Local file path or remote URL to the image"),
// not a URL of a service's own scheme ("bs://").
func fileOrURL(d string) bool {
	i := strings.Index(d, "file path or")
	if i < 0 {
		i = strings.Index(d, "local path or")
	}
	if i < 0 {
		return false
	}
	rest := d[i:min(len(d), i+60)]
	// "or a BrowserStack app URL (bs://)": a service's own scheme
	if j := strings.Index(rest, "://"); j >= 0 && !strings.Contains(rest[:j], "http") {
		return false
	}
	return strings.Contains(rest, "url") && !strings.Contains(d[max(0, i-12):i], "not ")
}

// fileContent reports whether a property named file holds a file's
// content ("Content of the stack file"), not a path to one.
func fileContent(p *prop, d string) bool {
	return (p.joined == "file" || p.joined == "filecontent") && (strings.HasPrefix(d, "content of") || strings.HasPrefix(d, "contents of") || strings.HasPrefix(d, "the content of") || strings.HasPrefix(d, "the contents of"))
}

// forgeProjectPath reports whether a path names a project or a
// namespace on a code forge the tool's name names ("gitlab_list_commits":
// project_path "Project/repo path"), not a place on the server's disk.
func (c *classifier) forgeProjectPath(p *prop, d string) bool {
	if len(p.toks) < 2 || p.toks[0] != "project" && p.toks[0] != "namespace" || !anyIn(c.nameToks, forgeWords) {
		return false
	}
	return !hasWord(d, "local") && !hasWord(d, "disk") && !hasWord(d, "directory") && !hasWord(d, "folder") && !localDir(d)
}

// forgeWords name code forges.
var forgeWords = set("gitlab", "github", "gitea", "gitee", "bitbucket")

// secretStorePath reports whether a path's description places it in a
// secrets store ("The full path to read the secret … without the mount
// prefix", "The path where the pki mount will be created"): a mount or
// a secret, and no file, folder, disk or local word.
func secretStorePath(d string) bool {
	if !hasWord(d, "mount") && !hasWord(d, "secret") && !hasWord(d, "secrets") {
		return false
	}
	for _, w := range []string{"file", "files", "folder", "directory", "disk", "local", "filesystem"} {
		if hasWord(d, w) {
			return false
		}
	}
	return !localDir(d)
}

// diskWords place a path on a machine.
var diskWords = set("project", "workspace", "directory", "folder", "root", "disk", "server", "local", "machine")

// apiPath: a path described as an API endpoint's is a URL path on the
// service, not a file on the server's disk.
func apiPath(p *prop, pdesc func() string) bool {
	// "health_check_path", "api_path", "routePath": a path of a URL.
	if len(p.toks) > 1 && p.toks[len(p.toks)-1] == "path" && anyIn(p.toks[:len(p.toks)-1], urlPathWords) {
		return true
	}
	if p.joined != "path" {
		return false
	}
	d := pdesc()
	return strings.Contains(d, "api endpoint") || strings.Contains(d, "endpoint path") || strings.Contains(d, "api path")
}

// codeReviewRecord reports whether a tool's name ends in an issue or a
// pull or merge request ("create_issue", "update_merge_request"), whose
// descriptions trackers render as Markdown.
func (c *classifier) codeReviewRecord() bool {
	n := c.nameToks
	// Jira's issues hold Jira's own markup, not a forge's Markdown.
	if len(n) == 0 || c.jiraServer || contains(n, "jira") {
		return false
	}
	switch last := n[len(n)-1]; last {
	case "issue", "pr", "mr", "pullrequest", "mergerequest":
		return true
	case "request":
		return len(n) > 1 && (n[len(n)-2] == "pull" || n[len(n)-2] == "merge")
	}
	return false
}

// peopleByEmail reports whether a property's description says it takes
// people by their email address.
func peopleByEmail(d string) bool {
	if !strings.Contains(d, "email") {
		return false
	}
	_, ok := anyPhrase(d, []string{"email or name of the user", "email addresses or ids", "email address or id", "email of the user", "user's email", "users' email", "email addresses of the", "email address of the user", "email address of the person"})
	return ok
}

// namingCode reports whether a "code" is described as a thing's code
// ("Project code (2-10 uppercase letters)", "Country code"): a name, not
// a program.
func namingCode(d string) bool {
	first, rest, ok := strings.Cut(d, " ")
	if !ok || !strings.HasPrefix(rest, "code") || codeKinds[first] || len(rest) > 4 && isWordByte(rest[4]) {
		return false
	}
	// "Apex code to execute", "R code to evaluate": code that runs.
	_, runs := anyPhrase(d, execHints)
	return !runs && !hasWord(d, "eval") && !hasWord(d, "arbitrary") && !hasWord(d, "custom")
}

// calcExpression reports whether an expression is a calculator's or a
// schedule's ("math": "Mathematical expression to evaluate", "cron_parse":
// "Cron expression"), which runs no code.
func calcExpression(d string, name []string) bool {
	for _, w := range []string{"javascript", "python", "code", "eval", "shell", "command", "script", "js", "node", "bash", "sql", "lua", "ruby"} {
		if hasWord(d, w) {
			return false
		}
	}
	if strings.Contains(d, "cron expression") || strings.Contains(d, "mathematical") || strings.Contains(d, "arithmetic") {
		return true
	}
	return anyIn(name, calcNames)
}

// calcNames, in a tool's name, make it a calculator.
var calcNames = set("math", "calc", "calculate", "calculator", "cron")

// codeKinds, before "code", make it a program.
var codeKinds = set("source", "javascript", "js", "python", "typescript", "ts", "shell", "bash", "sql", "program", "script", "the", "a", "your", "lua", "ruby", "go")

// pageLead reports whether a lead says the tool acts on a page: on an
// element, the page, the browser or the keyboard ("performs a mouse
// action on an element"), not on a test plan or a report.
func pageLead(lead string) bool {
	for _, w := range []string{"element", "page", "browser", "keyboard", "dom", "alert", "dialog", "window", "tab", "keys", "mouse", "javascript"} {
		if hasWord(lead, w) {
			return true
		}
	}
	return false
}

// localDir reports whether a path is described as a directory of the
// server's machine ("The directory to run the command in (defaults to
// current working directory)"), wherever the server's name says its
// files are.
func localDir(d string) bool {
	return strings.Contains(d, "working directory") || strings.Contains(d, "current directory") || strings.Contains(d, "run the command in")
}

// signInPart reports whether a property sits in a sign-in's credentials
// ("credentials.username").
func signInPart(p *prop) bool {
	if p.depth < 2 {
		return false
	}
	parent := parentName(p.path)
	// (most parents say none of it: tokenize only those that might)
	if !containsFoldASCII(parent, "cred") && !containsFoldASCII(parent, "auth") && !containsFoldASCII(parent, "login") && !containsFoldASCII(parent, "proxy") {
		return false
	}
	return credentialParents[lastWord(parent)] || strings.EqualFold(parent, "proxy")
}

// credentialParents hold what signs in.
var credentialParents = set("credentials", "credential", "auth", "login", "authentication", "basicauth")

// connectionWords name a connection.
var connectionWords = set("connection", "connections")

// appConnection reports whether a lead says a connection is to an app
// ("Check if there is any active connection to the Slack app"), which a
// sign-in grants, not to a database or a host.
func appConnection(lead string) bool {
	i := strings.Index(lead, "connection to ")
	if i < 0 {
		i = strings.Index(lead, "connections to ")
	}
	if i < 0 {
		return false
	}
	w := lead[i:min(len(lead), i+64)]
	k := strings.Index(w, " app")
	if k < 0 || !hasWord(w, "app") {
		return false
	}
	// "the app database": a database's connection, not a sign-in.
	next := strings.TrimLeft(w[k+4:], " ")
	return !strings.HasPrefix(next, "database") && !strings.HasPrefix(next, "db") && !strings.HasPrefix(next, "server")
}

// markedThing reports whether a name puts a label, a tag or a mark on
// the thing it ends with, or takes one off ("add_label_to_email",
// "remove_label_from_email"): the label is the object, the email only
// where it goes.
func markedThing(name []string) bool {
	for i := 1; i+1 < len(name); i++ {
		if (name[i] == "to" || name[i] == "from") && labelNouns[name[i-1]] {
			return true
		}
	}
	return false
}

// labelNouns are labels and tags put on things.
var labelNouns = set("label", "labels", "tag", "tags", "flag", "flags", "category", "categories")

// firstWordWhere is the first of toks in words for which keep holds.
func firstWordWhere(toks []string, words map[string]bool, keep func(string) bool) (string, bool) {
	for _, t := range toks {
		if words[t] && keep(t) {
			return t, true
		}
	}
	return "", false
}

// whoami reports whether a name ends in "whoami" ("jira_whoami",
// "whoAmI"): it reads the signed-in user.
func whoami(name []string) bool {
	n := len(name)
	return n > 0 && name[n-1] == "whoami" || n > 2 && name[n-3] == "who" && name[n-2] == "am" && name[n-1] == "i"
}

// sharedMessage is the message property of a share with a person's
// address ("share_file" with "email" and "message"), or "".
func (c *classifier) sharedMessage() string {
	if c.notifyAddress == "" || c.verb != "share" {
		return ""
	}
	return c.topProp(shareMessages)
}

// topProp is the name of the first top-level property whose joined name
// is in names, or "".
func (c *classifier) topProp(names map[string]bool) string {
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 && names[p.joined] {
			return p.name
		}
	}
	return ""
}

// sqlStatement reports whether a description names the kind of SQL
// statement a property holds ("ALTER TABLE statement", "CREATE TABLE
// statement").
func sqlStatement(d string) bool {
	if !strings.Contains(d, "statement") {
		return false
	}
	_, ok := anyPhrase(d, sqlStatementHeads)
	return ok
}

// sqlStatementHeads start SQL statements.
var sqlStatementHeads = []string{"alter table", "create table", "drop table", "create index", "drop index", "insert into", "delete from", "truncate table", "create view", "alter view", "create function", "create procedure"}

// plainOrCode: a body described as plain text (an SMS), as code (a
// class's body) or as JSON (a webhook's payload template) is not markup
// rendered for someone.
func plainOrCode(d string) bool {
	if _, ok := anyPhrase(d, []string{"plain text", "text content", "the text of"}); ok {
		return true
	}
	for _, w := range []string{"code", "class", "function", "trigger", "script", "sql", "base64", "json"} {
		if hasWord(d, w) {
			return true
		}
	}
	return false
}

// kindOfPeople reports whether a property that picks a kind of record
// can pick people: its description names contacts, users or customers.
func kindOfPeople(d string) (string, bool) {
	for _, k := range personKinds {
		if hasWord(d, k) {
			return k, true
		}
	}
	return "", false
}

// saysURL: a property described as an endpoint URL ("Webhook endpoint
// URL or email address") is where the tool sends traffic.
// leadPeople finds a word for people ("people", "contacts") in a
// description's lead, listed among what a reading tool returns.
func leadPeople(lead string) (string, bool) {
	for _, w := range []string{"people", "persons", "contacts", "customers"} {
		if hasWord(lead, w) {
			return w, true
		}
	}
	return "", false
}

// mailish reports whether a tool works on email: its description's lead
// or one of its top-level properties (a mailbox, a Gmail query) says so.
func (c *classifier) mailish(lead string) bool {
	for w := range mailWords {
		if hasWord(lead, w) {
			return true
		}
	}
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 {
			if _, ok := anyWord(p.toks, mailWords); ok {
				return true
			}
			d := strings.ToLower(clip(p.desc, 256))
			for w := range mailWords {
				if hasWord(d, w) {
					return true
				}
			}
		}
	}
	return false
}

// connString reports whether a name ends in a connection string or URL
// ("targetConnectionString"): the host the tool connects to.
func connString(toks []string) bool {
	n := len(toks)
	return n > 2 && toks[n-2] == "connection" && (toks[n-1] == "string" || toks[n-1] == "uri" || toks[n-1] == "url")
}

// settingsDesc reports whether a property is described as configuration
// ("mobile": "Mobile app configuration settings").
func settingsDesc(d string) bool {
	return hasWord(d, "configuration") || hasWord(d, "settings")
}

// forModel reports whether a property is a prompt for a model
// ("instruction.template"): it is read by a model, not rendered for people.
func forModel(p *prop, desc string) bool {
	if w := lastWord(parentName(p.path)); w == "instruction" || w == "instructions" || w == "prompt" || w == "prompts" {
		return true
	}
	return hasWord(desc, "prompt") || hasWord(desc, "llm")
}

// descWord reports whether the lower-case text d holds one of ws as a
// whole word.
func descWord(d string, ws map[string]bool) bool {
	for w := range ws {
		// d is lower-case: without w in it, no word of it is w.
		if strings.Contains(d, w) {
			_, ok := anyWord(words(d, 256, 1024), ws)
			return ok
		}
	}
	return false
}

// hasAnyPhrase reports whether d holds one of phrases.
func hasAnyPhrase(d string, phrases []string) bool {
	_, ok := anyPhrase(d, phrases)
	return ok
}

// siteURL reports whether a URL's description names the site it is on
// before the word URL ("Booking.com hotel URL to check").
func siteURL(d string) bool {
	i := -1
	for off := 0; off < len(d); {
		j := strings.Index(d[off:], "url")
		if j < 0 {
			return false
		}
		j += off
		if (j == 0 || !isLetter(d[j-1])) && (j+3 == len(d) || !isLetter(d[j+3]) || d[j+3] == 's') {
			i = j
			break
		}
		off = j + 3
	}
	if i < 0 {
		return false
	}
	before := d[max(0, i-30):i]
	for _, tld := range []string{".com ", ".org ", ".net ", ".io "} {
		if strings.Contains(before, tld) {
			return true
		}
	}
	return false
}

// docsPageURL reports whether a URL property's description makes it a
// page of a documentation site ("Apple documentation URL to analyze",
// "API URL … Example: https://developer.apple.com/documentation/…"),
// with nothing that says any URL.
func docsPageURL(d string) bool {
	if anyURL(d) {
		return false
	}
	if strings.Contains(d, "documentation url") {
		return true
	}
	i := strings.Index(d, "example")
	return i >= 0 && strings.Contains(d[i:], "https://") && strings.Contains(d[i:], "/documentation/")
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// hookParents hold a webhook's settings.
var hookParents = set("config", "configuration", "webhook", "hook")

// deliveryPhrases describe a URL events or payloads are sent to.
var deliveryPhrases = []string{"will be delivered", "are delivered to", "to which the payload", "where payloads are", "where events are sent", "where deliveries"}

// linkTo reports whether a property's description calls its URL a link to
// a document or record, which is stored with the data, not fetched.
func linkTo(d string) bool {
	_, ok := anyPhrase(d, []string{"link to a ", "link to the ", "link to an ", "url to associate with"})
	return ok
}

func saysURL(d string) bool {
	for _, p := range netDescs {
		i := strings.Index(d, p)
		if i < 0 {
			continue
		}
		// "the code from the callback URL" is a part read out of a
		// URL, not an address.
		// "a local path, not a remote URL" says what it is not.
		if before := d[max(0, i-40):i]; !strings.Contains(before, "from ") && !strings.Contains(before, " in the ") && !strings.HasSuffix(before, "not ") && !strings.HasSuffix(before, "no ") {
			return true
		}
	}
	return false
}
