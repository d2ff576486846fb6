package scan

import (
	"encoding/json"
	"testing"
)

// TestSignalRules pins the rules the corpus (TestCorpus) asked for, one
// small definition each: what raises a signal and what no longer does.
func TestSignalRules(t *testing.T) {
	obj := func(props string) json.RawMessage {
		return json.RawMessage(`{"type":"object","properties":{` + props + `}}`)
	}
	ro := json.RawMessage(`{"readOnlyHint":true}`)
	for _, c := range []struct {
		name string
		tool Tool
		sig  string
		want bool
	}{
		// messaging
		{"a lone to is not a recipient", Tool{Name: "create_relations", InputSchema: obj(`"relations":{"type":"array","items":{"type":"object","properties":{"from":{"type":"string"},"to":{"type":"string"}}}}`)}, SigMessaging, false},
		{"to next to subject is", Tool{Name: "dispatch", InputSchema: obj(`"to":{"type":"string"},"subject":{"type":"string"}`)}, SigMessaging, true},
		{"a subject alone composes, it does not send", Tool{Name: "create_template", InputSchema: obj(`"subject":{"type":"string"}`)}, SigMessaging, false},
		{"send with a message noun", Tool{Name: "send_email"}, SigMessaging, true},
		{"send with another object", Tool{Name: "send_event"}, SigMessaging, false},
		{"post a page", Tool{Name: "post_page"}, SigMessaging, false},
		{"post a message", Tool{Name: "slack_post_message"}, SigMessaging, true},
		{"send a broadcast", Tool{Name: "send_broadcast"}, SigMessaging, true},
		{"create a broadcast (a draft)", Tool{Name: "create_broadcast"}, SigMessaging, false},
		{"create an invitation", Tool{Name: "create_invitation"}, SigMessaging, true},
		{"update an email", Tool{Name: "update_email"}, SigMessaging, false},
		{"a notification setting", Tool{Name: "create_notification_setting"}, SigMessaging, false},
		{"the service name is not a message", Tool{Name: "slack_add_reaction"}, SigMessaging, false},
		{"an address for notifications", Tool{Name: "create_monitor", Description: "Creates a monitor that can send email notifications.", InputSchema: obj(`"email":{"type":"string"}`)}, SigMessaging, true},
		{"send an email, deep in the usage notes", Tool{Name: "create_automation", Description: "Create an automation.\n\nSteps: send_email — send an email using a template."}, SigMessaging, false},
		// mismatch
		{"open_nodes is a read", Tool{Name: "open_nodes", Annotations: ro}, SigMismatch, false},
		{"a delete annotated read-only", Tool{Name: "delete_nodes", Annotations: ro}, SigMismatch, true},
		{"a getter annotated destructive", Tool{Name: "get_guide", Annotations: json.RawMessage(`{"destructiveHint":true}`)}, SigMismatch, true},
		{"a getter annotated destructive whose description says it updates", Tool{Name: "get_guide", Description: "Returns the guide and updates the callback URLs on the application.", Annotations: json.RawMessage(`{"destructiveHint":true}`)}, SigMismatch, false},
		// pii
		{"users are people", Tool{Name: "slack_get_users"}, SigPII, true},
		{"user details", Tool{Name: "get_user_details"}, SigPII, true},
		{"properties of contacts are not", Tool{Name: "list_contact_properties"}, SigPII, false},
		{"reading emails", Tool{Name: "list_received_emails"}, SigPII, true},
		{"an email id is a reference", Tool{Name: "get_attachment", InputSchema: obj(`"emailId":{"type":"string"}`)}, SigPII, false},
		{"an email address id is still personal", Tool{Name: "set_primary", InputSchema: obj(`"primary_email_address_id":{"type":"string"}`)}, SigPII, true},
		{"reply-to addresses", Tool{Name: "create_template", InputSchema: obj(`"replyTo":{"type":"array","items":{"type":"string"}}`)}, SigPII, true},
		{"saved payment methods", Tool{Name: "list_saved_payment_methods"}, SigPII, true},
		{"a shop's orders hold their buyers", Tool{Name: "get_orders"}, SigPII, true},
		{"grouped by contact is not contacts", Tool{Name: "list_aged_receivables_by_contact"}, SigPII, false},
		{"mobile app settings", Tool{Name: "update_application", InputSchema: obj(`"mobile":{"type":"object","description":"Mobile app configuration settings"}`)}, SigPII, false},
		{"a mobile number", Tool{Name: "update_profile", InputSchema: obj(`"mobile":{"type":"string"}`)}, SigPII, true},
		// auth
		{"group by API key is not a key", Tool{Name: "credit_usage", InputSchema: obj(`"byApiKey":{"type":"boolean"}`)}, SigAuth, false},
		{"skipping TLS checks is not a credential", Tool{Name: "scrape", InputSchema: obj(`"skipTlsVerification":{"type":"boolean"}`)}, SigAuth, false},
		{"skipping password checks is", Tool{Name: "update_user", InputSchema: obj(`"skip_password_checks":{"type":"boolean"}`)}, SigAuth, true},
		{"a password in the usage notes", Tool{Name: "send", Description: "Send a message.\n\nExample: a password reset email."}, SigAuth, false},
		{"a token's settings are not a token", Tool{Name: "update_application", InputSchema: obj(`"refresh_token":{"type":["object","null"],"properties":{"token_lifetime":{"type":"integer"},"rotation_type":{"type":"string"}}},"jwt_configuration":{"type":"object","properties":{"alg":{"type":"string"}}}`)}, SigAuth, false},
		{"a client secret is", Tool{Name: "update_application", InputSchema: obj(`"client_secret":{"type":"string"}`)}, SigAuth, true},
		{"an environment of content is not a secret", Tool{Name: "create_environment"}, SigAuth, false},
		{"environment variables are", Tool{Name: "list_environment_variables"}, SigAuth, true},
		// money
		{"listing prices moves no money", Tool{Name: "list_prices"}, SigMoney, false},
		{"a payment method is an instrument", Tool{Name: "delete_saved_payment_method"}, SigMoney, false},
		{"creating a refund", Tool{Name: "create_refund"}, SigMoney, true},
		{"a journal's line amounts", Tool{Name: "create_manual_journal", InputSchema: obj(`"lines":{"type":"array","items":{"type":"object","properties":{"lineAmount":{"type":"number"}}}}`)}, SigMoney, true},
		{"an item's unit price", Tool{Name: "create_item", InputSchema: obj(`"salesDetails":{"type":"object","properties":{"unitPrice":{"type":"number"}}}`)}, SigMoney, true},
		{"a quote bills no one", Tool{Name: "create_quote", InputSchema: obj(`"lineItems":{"type":"array","items":{"type":"object","properties":{"unitAmount":{"type":"number"}}}}`)}, SigMoney, false},
		{"a price cap is not a charge", Tool{Name: "create_message", InputSchema: obj(`"MaxPrice":{"type":"number"}`)}, SigMoney, false},
		// body
		{"file content is not markup", Tool{Name: "write_file", InputSchema: obj(`"content":{"type":"string"}`)}, SigBody, false},
		{"an id described with the word template", Tool{Name: "get_template", InputSchema: obj(`"id":{"type":"string","description":"The template ID"}`)}, SigBody, false},
		{"a format enum mentioning markdown", Tool{Name: "crawl", InputSchema: obj(`"format":{"type":"string","enum":["markdown","text"],"description":"markdown or text"}`)}, SigBody, false},
		{"an html string", Tool{Name: "create_template", InputSchema: obj(`"html":{"type":"string"}`)}, SigBody, true},
		{"a form's CSS is not markup", Tool{Name: "create_form", InputSchema: obj(`"style":{"type":"object","properties":{"css":{"type":"string"}}}`)}, SigBody, false},
		{"a prompt template is read by a model", Tool{Name: "create_ai_action", InputSchema: obj(`"instruction":{"type":"object","properties":{"template":{"type":"string"}}}`)}, SigBody, false},
		{"an OAuth client object is not shown", Tool{Name: "create_resource_server", InputSchema: obj(`"client":{"type":"object"}`)}, SigBody, false},
		// exec
		{"a discount code", Tool{Name: "create_discount", InputSchema: obj(`"code":{"type":"string","description":"Unique code customers use at checkout"}`)}, SigExec, false},
		{"a code snippet to run", Tool{Name: "run_code", Description: "Run a Playwright code snippet: executes JavaScript.", InputSchema: obj(`"code":{"type":"string"}`)}, SigExec, true},
		{"a function to evaluate", Tool{Name: "browser_evaluate", Description: "Evaluate JavaScript expression on page", InputSchema: obj(`"function":{"type":"string"}`)}, SigExec, true},
		{"without starting a shell command", Tool{Name: "edit", Description: "Edit files without starting a shell command."}, SigExec, false},
		// fs
		{"a path in a repository", Tool{Name: "get_file_contents", InputSchema: obj(`"owner":{"type":"string"},"repo":{"type":"string"},"path":{"type":"string"}`)}, SigFS, false},
		{"a path on disk", Tool{Name: "read_file", InputSchema: obj(`"path":{"type":"string"}`)}, SigFS, true},
		{"a list of paths", Tool{Name: "read_multiple_files", InputSchema: obj(`"paths":{"type":"array","items":{"type":"string"}}`)}, SigFS, true},
		{"files and directories moved by source and destination", Tool{Name: "move_file", Description: "Move or rename files and directories.", InputSchema: obj(`"source":{"type":"string"},"destination":{"type":"string"}`)}, SigFS, true},
		{"a file or directory of a repository", Tool{Name: "get_file_contents", Description: "Get the contents of a file or directory from a GitHub repository"}, SigFS, false},
		{"an email return path", Tool{Name: "create_domain", InputSchema: obj(`"customReturnPath":{"type":"string"}`)}, SigFS, false},
		{"a file in the name alone", Tool{Name: "gzip-file-as-resource"}, SigFS, false},
		// network
		{"openWorldHint alone", Tool{Name: "browser_resize", Annotations: json.RawMessage(`{"openWorldHint":true}`)}, SigNetwork, false},
		{"an image URL is shown, not fetched", Tool{Name: "create_product", InputSchema: obj(`"imageUrl":{"type":"string"}`)}, SigNetwork, false},
		{"a URL inside another object", Tool{Name: "create_transaction", InputSchema: obj(`"checkout":{"type":"object","properties":{"url":{"type":"string"}}}`)}, SigNetwork, false},
		{"a proxy mode", Tool{Name: "parse", InputSchema: obj(`"proxy":{"type":"string","enum":["basic","stealth"]}`)}, SigNetwork, false},
		{"a URL to fetch", Tool{Name: "fetch", InputSchema: obj(`"url":{"type":"string","format":"uri"}`)}, SigNetwork, true},
		{"a webhook endpoint", Tool{Name: "create_webhook", InputSchema: obj(`"endpoint":{"type":"string"}`)}, SigNetwork, true},
		{"a list of URLs to fetch", Tool{Name: "extract", InputSchema: obj(`"urls":{"type":"array","items":{"type":"string"}}`)}, SigNetwork, true},
		{"a list of image URLs", Tool{Name: "create_product", InputSchema: obj(`"imageUrls":{"type":"array","items":{"type":"string"}}`)}, SigNetwork, false},
		{"a code read from a callback URL", Tool{Name: "connect_account", InputSchema: obj(`"authorization_code":{"type":"string","description":"Authorization code from the OAuth callback URL"}`)}, SigNetwork, false},
		{"a callback URL to call", Tool{Name: "create_subscription", InputSchema: obj(`"target":{"type":"string","description":"The callback URL to send events to"}`)}, SigNetwork, true},
		{"a link to a document", Tool{Name: "create_journal", InputSchema: obj(`"url":{"type":"string","description":"Optional URL link to a source document"}`)}, SigNetwork, false},
		{"URLs saved to a file", Tool{Name: "save_credentials_to_file", InputSchema: obj(`"callback_url":{"type":"string"}`)}, SigNetwork, false},
		{"hovering over an element", Tool{Name: "browser_hover", InputSchema: obj(`"element":{"type":"string"}`)}, SigNetwork, false},
		{"clicking an element", Tool{Name: "browser_click", InputSchema: obj(`"element":{"type":"string"}`)}, SigNetwork, true},
		{"managing webhooks by id", Tool{Name: "remove_webhook", InputSchema: obj(`"webhookId":{"type":"string"}`)}, SigNetwork, false},
		{"a connection string", Tool{Name: "connect", InputSchema: obj(`"connectionString":{"type":"string"}`)}, SigNetwork, true},
		{"an element of a live page", Tool{Name: "browser_type", InputSchema: obj(`"element":{"type":"string"},"text":{"type":"string"}`)}, SigNetwork, true},
		{"a CSS selector of a page", Tool{Name: "click", InputSchema: obj(`"selector":{"type":"string"}`)}, SigNetwork, true},
		{"an element a reading tool looks at", Tool{Name: "browser_take_screenshot", InputSchema: obj(`"element":{"type":"string"}`), Annotations: ro}, SigNetwork, false},
		// fs, after the corpus grew
		{"a field path inside an index definition", Tool{Name: "create_index", InputSchema: obj(`"definition":{"type":"array","items":{"type":"object","properties":{"fields":{"type":"array","items":{"type":"object","properties":{"path":{"type":"string"}}}}}}}`)}, SigFS, false},
		{"a path inside attachments", Tool{Name: "send_mail", InputSchema: obj(`"attachments":{"type":"array","items":{"type":"object","properties":{"path":{"type":"string"}}}}`)}, SigFS, true},
		{"a file sent as base64", Tool{Name: "upload_attachment", InputSchema: obj(`"file":{"type":"string","description":"Raw base64-encoded file content"},"filename":{"type":"string"}`)}, SigFS, false},
		// read, mismatch and destructive, after the corpus grew
		{"connect annotated read-only is a read", Tool{Name: "connect", Annotations: ro}, "read", true},
		{"connect annotated read-only is no mismatch", Tool{Name: "disconnect", Annotations: ro}, SigMismatch, false},
		{"connect without annotations writes", Tool{Name: "connect-to-editor"}, "read", false},
		{"a rename that may drop its target", Tool{Name: "rename_collection", InputSchema: obj(`"newName":{"type":"string"},"dropTarget":{"type":"boolean"}`), Annotations: json.RawMessage(`{"destructiveHint":true}`)}, "destructive", true},
		{"a rename without such a switch", Tool{Name: "rename_collection", InputSchema: obj(`"newName":{"type":"string"}`), Annotations: json.RawMessage(`{"destructiveHint":true}`)}, "destructive", false},
		// third round, after the corpus grew again
		{"a draft is stored, not sent", Tool{Name: "save_draft", InputSchema: obj(`"to":{"type":"string"},"subject":{"type":"string"}`)}, SigMessaging, false},
		{"sending a draft", Tool{Name: "send_draft", InputSchema: obj(`"id":{"type":"string"}`)}, SigMessaging, true},
		{"to next to a template", Tool{Name: "apply_template", InputSchema: obj(`"template":{"type":"string"},"to":{"type":"string"}`)}, SigMessaging, true},
		{"a reply to an email carries addresses", Tool{Name: "reply_email", InputSchema: obj(`"emailId":{"type":"string"},"body":{"type":"string"}`)}, SigPII, true},
		{"to described as a recipient", Tool{Name: "list_messages", InputSchema: obj(`"to":{"type":"string","description":"Filter by recipient"}`)}, SigPII, true},
		{"collaborators are people", Tool{Name: "get_collaborators"}, SigPII, true},
		{"email statistics name senders", Tool{Name: "get_email_stats"}, SigPII, true},
		{"attendees are people", Tool{Name: "extract_calendar", Description: "Returns event data including time, location, attendees."}, SigPII, true},
		{"an object type that can be contacts", Tool{Name: "list_objects", InputSchema: obj(`"objectType":{"type":"string","description":"One of: companies, contacts, deals"}`)}, SigPII, true},
		{"the schema of such objects", Tool{Name: "list_properties", InputSchema: obj(`"objectType":{"type":"string","description":"One of: companies, contacts, deals"}`)}, SigPII, false},
		{"a page token is no secret", Tool{Name: "list_messages", InputSchema: obj(`"PageToken":{"type":"string"}`)}, SigAuth, false},
		{"an API endpoint path", Tool{Name: "api_get", InputSchema: obj(`"path":{"type":"string","description":"The API endpoint path, e.g. /rest/api/3/project"}`)}, SigFS, false},
		{"a mailbox folder path", Tool{Name: "create_mailbox", InputSchema: obj(`"path":{"type":"string","description":"Folder path to create"}`)}, SigFS, false},
		{"an SMS body is plain text", Tool{Name: "create_message", InputSchema: obj(`"Body":{"type":"string","description":"The text content of the outgoing message"}`)}, SigBody, false},
		{"a class body is code", Tool{Name: "write_apex", InputSchema: obj(`"body":{"type":"string","description":"Full body of the Apex class"}`)}, SigBody, false},
		{"downloading an attachment from the service", Tool{Name: "download_attachment", InputSchema: obj(`"attachmentId":{"type":"string"}`)}, SigNetwork, false},
		{"a status callback", Tool{Name: "create_message", InputSchema: obj(`"StatusCallback":{"type":"string"}`)}, SigNetwork, true},
		{"a destination described as an endpoint URL", Tool{Name: "create_destination", InputSchema: obj(`"destination":{"type":"string","description":"Webhook endpoint URL or email address."}`)}, SigNetwork, true},
		{"a browser tool that presses keys", Tool{Name: "browser_press_key", InputSchema: obj(`"key":{"type":"string"}`)}, SigNetwork, true},
		{"a browser tool that resizes", Tool{Name: "browser_resize", InputSchema: obj(`"width":{"type":"number"}`)}, SigNetwork, false},
		{"a where clause", Tool{Name: "query_records", InputSchema: obj(`"whereClause":{"type":"string"}`)}, SigExec, true},
		{"an action that can delete", Tool{Name: "bulk_action", InputSchema: obj(`"action":{"type":"string","enum":["mark_read","move","delete"]}`)}, "destructive", true},
		{"an action that revokes access", Tool{Name: "manage_permissions", InputSchema: obj(`"operation":{"type":"string","enum":["grant","revoke"]}`)}, "destructive", false},
		{"a write mode that rewrites", Tool{Name: "write_file", InputSchema: obj(`"mode":{"type":"string","enum":["rewrite","append"]}`)}, "destructive", true},
		{"a write of the full body", Tool{Name: "write_class", InputSchema: obj(`"body":{"type":"string","description":"Full body of the class"}`)}, "destructive", true},
		// fifth round, from the fourth addition's tuning servers
		{"a reader reads", Tool{Name: "deploy_services_reader", Annotations: ro}, "read", true},
		{"a reader annotated read-only is no mismatch", Tool{Name: "deploy_services_reader", Annotations: ro}, SigMismatch, false},
		{"an updater writes", Tool{Name: "project_services_updater"}, "read", false},
		{"a pod's log is the object", Tool{Name: "pods_log", Annotations: ro}, SigMismatch, false},
		{"a user read through a reader", Tool{Name: "user_services_reader", Annotations: ro}, SigPII, true},
		{"a nested action that can delete", Tool{Name: "manage_forms", InputSchema: obj(`"params":{"type":"object","properties":{"action":{"type":"string","enum":["get-submissions","delete-submission"]}}}`)}, "destructive", true},
		{"column operations that can drop", Tool{Name: "manage_schema", InputSchema: obj(`"operations":{"type":"array","items":{"type":"object","properties":{"type":{"type":"string","enum":["add","alter","drop"]}}}}`)}, "destructive", true},
		{"a type enum of something else", Tool{Name: "manage_schema", InputSchema: obj(`"columns":{"type":"array","items":{"type":"object","properties":{"type":{"type":"string","enum":["text","drop"]}}}}`)}, "destructive", false},
		{"a switch that truncates first", Tool{Name: "import_table_data", InputSchema: obj(`"tableName":{"type":"string"},"truncateFirst":{"type":"boolean"}`)}, "destructive", true},
		{"a database's users are roles", Tool{Name: "pg_manage_users"}, SigPII, false},
		{"an email thread", Tool{Name: "get_thread", Description: "Reconstruct a full email conversation thread."}, SigPII, true},
		{"a chat thread", Tool{Name: "get_thread", Description: "Returns the replies of a channel thread."}, SigPII, false},
		{"a target connection string", Tool{Name: "copy_between_databases", InputSchema: obj(`"targetConnectionString":{"type":"string"}`)}, SigNetwork, true},
		{"an enum of SQL command kinds", Tool{Name: "create_policy", InputSchema: obj(`"command":{"type":"string","enum":["ALL","SELECT","INSERT"]}`)}, SigExec, false},
		// sixth round, from the dev part (the former held-out part, read)
		{"a board's card is not money", Tool{Name: "update_card_details", InputSchema: obj(`"cardId":{"type":"string"},"name":{"type":"string"}`)}, SigMoney, false},
		{"a credit card is", Tool{Name: "add_credit_card"}, SigMoney, true},
		{"a discount changes what is billed", Tool{Name: "create_discount"}, SigMoney, true},
		{"a discount group groups them", Tool{Name: "create_discount_group"}, SigMoney, false},
		{"a payment gateway's settings", Tool{Name: "woo_payment_gateways_update"}, SigMoney, false},
		{"a name with its verb last", Tool{Name: "woo_orders_list"}, SigPII, true},
		{"a report on customers is sums", Tool{Name: "woo_reports_customers"}, SigPII, false},
		{"a count of customers", Tool{Name: "get_customers_count"}, SigPII, false},
		{"deleting a user by id carries no personal data", Tool{Name: "delete_user", InputSchema: obj(`"userId":{"type":"string"}`)}, SigPII, false},
		{"messages of a mailbox", Tool{Name: "get_messages", InputSchema: obj(`"mailbox":{"type":"string"}`)}, SigPII, true},
		{"messages of a chat", Tool{Name: "get_messages", InputSchema: obj(`"channel":{"type":"string"}`)}, SigPII, false},
		{"an automation's emails are composed", Tool{Name: "list_automation_emails"}, SigPII, false},
		{"trashing a message is not sending one", Tool{Name: "trash_message"}, SigMessaging, false},
		{"a draft is not sent", Tool{Name: "draft_email", InputSchema: obj(`"to":{"type":"array","items":{"type":"string"}},"subject":{"type":"string"}`)}, SigMessaging, false},
		{"auto-forwarding sends mail on", Tool{Name: "update_auto_forwarding", InputSchema: obj(`"emailAddress":{"type":"string"}`)}, SigMessaging, true},
		{"creating a chat sends nothing", Tool{Name: "create_chat", InputSchema: obj(`"userEmails":{"type":"array","items":{"type":"string"}}`)}, SigMessaging, false},
		{"a health check that mentions credentials", Tool{Name: "health_check", Description: "Checks the server is up and its credentials work."}, SigAuth, false},
		{"a layout box named body", Tool{Name: "push_flex_message", InputSchema: obj(`"message":{"type":"object","properties":{"contents":{"type":"object","properties":{"body":{"type":"string"}}}}}`)}, SigBody, false},
		{"a template kind", Tool{Name: "create_filter_from_template", InputSchema: obj(`"template":{"type":"string","enum":["fromSender","withSubject"]}`)}, SigBody, false},
		{"a MIME type that can be text/html", Tool{Name: "attach_data", InputSchema: obj(`"mimeType":{"type":"string","description":"MIME type, e.g. text/html"}`)}, SigBody, false},
		{"headers of a tool that fetches HTML", Tool{Name: "fetch_html", InputSchema: obj(`"headers":{"type":"object"}`)}, SigBody, false},
		{"a service's region URL", Tool{Name: "search_issues", InputSchema: obj(`"regionUrl":{"type":"string"}`)}, SigNetwork, false},
		{"a shipment's tracking URL", Tool{Name: "create_fulfillment", InputSchema: obj(`"tracking_url":{"type":"string"}`)}, SigNetwork, false},
		{"a screenshot reads the page", Tool{Name: "puppeteer_screenshot", InputSchema: obj(`"selector":{"type":"string"}`)}, SigNetwork, false},
		{"attachments described as file paths", Tool{Name: "send_email", InputSchema: obj(`"attachments":{"type":"array","items":{"type":"string"},"description":"List of file paths to attach"}`)}, SigFS, true},
		{"stopping containers ends processes", Tool{Name: "docker-stop", InputSchema: obj(`"containers":{"type":"array","items":{"type":"string"}}`)}, "destructive", true},
		{"stopping a search does not", Tool{Name: "stop_search", InputSchema: obj(`"sessionId":{"type":"string"}`)}, "destructive", false},
		{"cleaning up removes", Tool{Name: "docker-clean"}, "destructive", true},
		{"logging out ends a session", Tool{Name: "docker-logout"}, "destructive", true},
		{"an action whose description lists remove", Tool{Name: "docker-network", InputSchema: obj(`"action":{"type":"string","description":"Action to perform (e.g., 'create', 'list', 'remove')"}`)}, "destructive", true},
		{"a compose command that can go down", Tool{Name: "compose", InputSchema: obj(`"command":{"type":"string","enum":["up","down"]}`)}, "destructive", true},
		{"a batch call with a list to delete", Tool{Name: "products_batch_update", InputSchema: obj(`"update":{"type":"array","items":{"type":"object"}},"delete":{"type":"array","items":{"type":"integer"}}`)}, "destructive", true},
		{"clearing a cache", Tool{Name: "wp_cache_clear"}, "destructive", false},
		{"a filter that forwards mail", Tool{Name: "create_filter", InputSchema: obj(`"action":{"type":"object","properties":{"forward":{"type":"string"}}}`)}, SigMessaging, true},
		{"deleting a forwarding address sends nothing", Tool{Name: "delete_forwarding_address", InputSchema: obj(`"forwardingEmail":{"type":"string"}`)}, SigMessaging, false},
		{"executing a service's tool is not code", Tool{Name: "execute_sentry_tool"}, SigExec, false},
		{"an issue's URL names a record", Tool{Name: "update_issue", InputSchema: obj(`"issueUrl":{"type":"string","format":"uri"}`)}, SigNetwork, false},
		{"confirming an order moves no money", Tool{Name: "confirm_order", InputSchema: obj(`"orderId":{"type":"string"}`)}, SigMoney, false},
		{"the directory a command runs in", Tool{Name: "run", InputSchema: obj(`"command":{"type":"string"},"cwd":{"type":"string"}`)}, SigFS, false},
		{"a generic search that lists people", Tool{Name: "search", Description: "Search companies, people, lists and tasks."}, SigPII, true},
		{"a property with no name words", Tool{Name: "create_page", InputSchema: obj(`"":{"type":"string","description":"HTML of the page"},"$":{"type":"object","properties":{"token":{"type":"object"}}}`)}, SigBody, true},
		{"a Helm repository URL", Tool{Name: "install_helm_chart", InputSchema: obj(`"repo":{"type":"string","description":"Helm repository URL"}`)}, SigNetwork, true},
		{"a specific reader that mentions customers", Tool{Name: "get_dashboard_stats", Description: "Returns revenue, orders and customers this month."}, SigPII, false},
		// round 8 (the fifth addition, read as dev)
		{"a leading do names a product", Tool{Name: "do_delete_namespace"}, "destructive", true},
		{"a leading do before a reader", Tool{Name: "do_list_objects"}, "read", true},
		{"dropping a stored procedure", Tool{Name: "drop_stored_procedure"}, "destructive", true},
		{"resetting a working tree", Tool{Name: "git_reset"}, "destructive", true},
		{"resetting a password is not destructive", Tool{Name: "reset_password"}, "destructive", false},
		{"data definition statements", Tool{Name: "execute_ddl"}, "destructive", true},
		{"signalling a process", Tool{Name: "signal-process"}, "destructive", true},
		{"a generated password is computed", Tool{Name: "password_generate"}, "read", true},
		{"a generated password is no stored credential", Tool{Name: "password_generate"}, SigAuth, false},
		{"fix is a write verb", Tool{Name: "fixListFormatting"}, "read", false},
		{"a re-invitation", Tool{Name: "reinvite_org_member"}, SigMessaging, true},
		{"a message noun after the verb's place", Tool{Name: "unread_room_message"}, SigMessaging, false},
		{"a message to a queue", Tool{Name: "queue_send_message", Description: "Send a message to a queue."}, SigMessaging, false},
		{"a reply to a comment", Tool{Name: "replyToComment"}, SigMessaging, false},
		{"an event with attendees invites them", Tool{Name: "create_event", InputSchema: obj(`"attendees":{"type":"array","items":{"type":"string"}}`)}, SigMessaging, true},
		{"an event's attendees are people", Tool{Name: "create_event", InputSchema: obj(`"attendees":{"type":"array","items":{"type":"string"}}`)}, SigPII, true},
		{"a draft's attendees are not invited yet", Tool{Name: "create_draft_event", InputSchema: obj(`"attendees":{"type":"array","items":{"type":"string"}}`)}, SigMessaging, false},
		{"events of a webhook are not meetings", Tool{Name: "list_webhook_events"}, SigPII, false},
		{"the account the tool acts as", Tool{Name: "get_me"}, SigPII, true},
		{"searching Gmail", Tool{Name: "searchGmail"}, SigPII, true},
		{"a login's username", Tool{Name: "registry_login", InputSchema: obj(`"username":{"type":"string"},"password":{"type":"string"}`)}, SigPII, false},
		{"a username alone is a person's", Tool{Name: "lookup", InputSchema: obj(`"username":{"type":"string"}`)}, SigPII, true},
		{"a vault's items are credentials", Tool{Name: "list", Description: "List items from your vault"}, SigAuth, true},
		{"a vault's folders are not", Tool{Name: "create_folder", Description: "Create a new folder in your vault"}, SigAuth, false},
		{"public metadata is not markup", Tool{Name: "update_public_metadata", InputSchema: obj(`"metadata":{"type":"object","additionalProperties":{},"description":"The public metadata to set"}`)}, SigBody, false},
		{"metadata the frontend displays is", Tool{Name: "update_user", InputSchema: obj(`"public_metadata":{"type":"object","description":"Metadata readable from the frontend"}`)}, SigBody, true},
		{"a SQL body is code, not markup", Tool{Name: "create_stored_procedure", InputSchema: obj(`"body":{"type":"string","description":"SQL body of the stored procedure"}`)}, SigBody, false},
		{"a SQL body runs", Tool{Name: "create_stored_procedure", InputSchema: obj(`"body":{"type":"string","description":"SQL body of the stored procedure"}`)}, SigExec, true},
		{"a query described as SQL", Tool{Name: "run_select_query", InputSchema: obj(`"query":{"type":"string","description":"SQL SELECT query"}`)}, SigExec, true},
		{"a search query is not SQL", Tool{Name: "search", InputSchema: obj(`"query":{"type":"string","description":"Words to search for"}`)}, SigExec, false},
		{"executing a stored procedure", Tool{Name: "execute_stored_procedure"}, SigExec, false},
		{"base64 data that may be Markdown", Tool{Name: "attach_data", InputSchema: obj(`"data":{"type":"string","description":"Base64-encoded data (e.g. data:text/markdown;base64,...)"}`)}, SigBody, false},
		{"downloading from the service", Tool{Name: "download_file", InputSchema: obj(`"fileId":{"type":"string"}`)}, SigNetwork, false},
		{"where the browser goes after sign-up", Tool{Name: "create_invitation", InputSchema: obj(`"redirectUrl":{"type":"string"}`)}, SigNetwork, false},
		{"a link put in a document", Tool{Name: "format_text", InputSchema: obj(`"linkUrl":{"type":"string","format":"uri"}`)}, SigNetwork, false},
		{"the URL of a deployment to delete", Tool{Name: "deleteDeployment", InputSchema: obj(`"url":{"type":"string","description":"Deployment URL"}`)}, SigNetwork, false},
		{"a URL saved in a login", Tool{Name: "password_create", InputSchema: obj(`"url":{"type":"string","format":"uri"}`)}, SigNetwork, false},
		{"a URL a create fetches", Tool{Name: "create_contact_import", Description: "Import contacts from a CSV file at a URL.", InputSchema: obj(`"url":{"type":"string"}`)}, SigNetwork, true},
		{"a URL a fetcher fetches", Tool{Name: "fetch_html", InputSchema: obj(`"url":{"type":"string"}`)}, SigNetwork, true},
		{"a custom domain's hostname", Tool{Name: "add_custom_domain", InputSchema: obj(`"hostname":{"type":"string"}`)}, SigNetwork, false},
		{"a path on the remote machine", Tool{Name: "sftp_list", InputSchema: obj(`"remotePath":{"type":"string"}`)}, SigFS, false},
		{"a download saved to a local path", Tool{Name: "download_attachment", InputSchema: obj(`"savePath":{"type":"string"}`)}, "read", false},
		{"a download saved to a local path, annotated read-only", Tool{Name: "downloadFromDrive", Annotations: ro, InputSchema: obj(`"localPath":{"type":"string"}`)}, SigMismatch, true},
		{"denying a request", Tool{Name: "device_approval_deny"}, "destructive", true},
		{"a write that runs the caller's SQL", Tool{Name: "execute_in_transaction", InputSchema: obj(`"query":{"type":"string","description":"SQL statement to run"}`)}, "destructive", true},
		{"a write that runs only a SELECT", Tool{Name: "run_select_query", InputSchema: obj(`"query":{"type":"string","description":"SQL SELECT query"}`)}, "destructive", false},
		{"a stored procedure's SQL is stored, not run", Tool{Name: "create_stored_procedure", InputSchema: obj(`"body":{"type":"string","description":"SQL body of the stored procedure"}`)}, "destructive", false},
		// round 9 (the sixth addition, read as dev)
		{"ssh names a protocol", Tool{Name: "ssh_tail"}, SigAuth, false},
		{"an SSH key is a credential", Tool{Name: "add_ssh_key"}, SigAuth, true},
		{"a sandbox's namespace", Tool{Name: "sandbox_list"}, SigExec, false},
		{"a bash environment's file reader", Tool{Name: "bash_read_file"}, SigExec, false},
		{"bash alone runs", Tool{Name: "bash"}, SigExec, true},
		{"running python", Tool{Name: "run_python"}, SigExec, true},
		{"a configured server's alias", Tool{Name: "ssh_execute", InputSchema: obj(`"server":{"type":"string"}`)}, SigNetwork, false},
		{"a DNS record's host", Tool{Name: "domain_dns_add", InputSchema: obj(`"host":{"type":"string"}`)}, SigNetwork, false},
		{"a record noun before a verb", Tool{Name: "domain-record-get"}, "read", true},
		{"an invoice noun before a verb", Tool{Name: "invoice-list"}, SigMoney, false},
		{"a log noun before clear", Tool{Name: "log_clear"}, "destructive", true},
		{"marking as read writes", Tool{Name: "mark_as_read"}, "read", false},
		{"closing a session ends it", Tool{Name: "ssh_session_close"}, "destructive", true},
		{"closing tasks is not destructive", Tool{Name: "close_tasks"}, "destructive", false},
		{"writing a file replaces it", Tool{Name: "bash_write_file"}, "destructive", true},
		{"a sandbox's files", Tool{Name: "read_file", Description: "Read a file from the sandbox.", InputSchema: obj(`"path":{"type":"string"}`)}, SigFS, false},
		{"a remote log file", Tool{Name: "tail", Description: "Reads a remote log file on the named server.", InputSchema: obj(`"file":{"type":"string"}`)}, SigFS, false},
		{"a local path of a remote copy", Tool{Name: "upload", Description: "Uploads one local file to a remote server.", InputSchema: obj(`"localPath":{"type":"string"}`)}, SigFS, true},
		{"a database password the tool connects with", Tool{Name: "db_dump", InputSchema: obj(`"dbPassword":{"type":"string"}`)}, SigAuth, false},
		{"a user's password", Tool{Name: "create_user", InputSchema: obj(`"password":{"type":"string"}`)}, SigAuth, true},
		{"a digest of news", Tool{Name: "get_digest_state"}, SigAuth, false},
		{"an HTTP request's body", Tool{Name: "fetch", InputSchema: obj(`"url":{"type":"string"},"method":{"type":"string"},"body":{"type":"string"}`)}, SigBody, false},
		{"a Git checkout buys nothing", Tool{Name: "git_checkout", InputSchema: obj(`"branch":{"type":"string"}`)}, SigMoney, false},
	} {
		r := Classify(c.tool)
		if got := corpusPredict(&r, c.sig); got != c.want {
			t.Errorf("%s (%s): %s = %v, want %v; %s %+v", c.name, c.tool.Name, c.sig, got, c.want, r.Category, r.Signals)
		}
	}
}

// TestClassifyInMailServer pins the one rule that reads the server's name:
// on a server named for mail, readers of messages, threads and drafts and
// its searches read emails.
func TestClassifyInMailServer(t *testing.T) {
	for _, c := range []struct {
		server, tool string
		want         bool
	}{
		{"gmail", "get_message", true},
		{"mcp-mail-server", "get_recent_messages", true},
		{"imap", "get_thread", true},
		{"mail", "search_by_subject", true},
		{"", "get_message", false},
		{"slack", "get_messages", false},
		{"teams", "search_messages", false},
		{"mailchimp", "get_message", false},
		{"gmail", "create_label", false},
	} {
		r := ClassifyIn(c.server, Tool{Name: c.tool})
		if got := r.Has(SigPII); got != c.want {
			t.Errorf("ClassifyIn(%q, %s): pii = %v, want %v; %+v", c.server, c.tool, got, c.want, r.Signals)
		}
	}
	// Scan uses the server's name the same way.
	sr := Scan("gmail", "test", []Tool{{Name: "get_message"}})
	if !sr.Tools[0].Has(SigPII) {
		t.Errorf("Scan(gmail): get_message not pii: %+v", sr.Tools[0].Signals)
	}
}
