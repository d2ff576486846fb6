package cli

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/admin"
	"github.com/toolgate/toolgate/approval"
	"github.com/toolgate/toolgate/approval/webhook"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/grant"
	"github.com/toolgate/toolgate/internal/jwtauth"
	"github.com/toolgate/toolgate/internal/upstreamauth"
	limitsqlite "github.com/toolgate/toolgate/limit/sqlite"
	"github.com/toolgate/toolgate/policy"
	"github.com/toolgate/toolgate/scan"
)

// gatewayRuntime is a gateway built from a configuration, with what keeps its
// policy current.
type gatewayRuntime struct {
	cfg      *config.Config
	gw       *gateway.Gateway
	policies []*gateway.PolicyFile // the policy files to keep current
	byName   map[string]*gateway.PolicyFile
	inline   []string         // the names of the policies written in the configuration
	store    *approval.SQLite // pending approvals
	// closeTokens closes the store of the upstreams' OAuth tokens.
	closeTokens func()
	hook        *webhook.Sender       // approvals.webhook, or nil
	grants      *grant.SQLite         // with auth: grants
	verifier    *grant.Verifier       // checks grant tokens, with auth: grants
	counters    *limitsqlite.Counters // Intercept-format counters, in the store
	pinsPath    string                // the pins file, watched for changes; "" when none
	audit       *audit.Log            // nil when the audit log is off
	auditDB     *audit.SQLite         // the sqlite sink, for queries; nil when none
	log         *slog.Logger
}

// Verified grant tokens are trusted again for up to verifiedFor without a
// store lookup; the store's epoch is polled every epochEvery, so that a
// revocation made elsewhere (toolgate grant revoke) ends sessions within
// that, and one made through the admin API at once.
const (
	verifiedFor = 30 * time.Second
	epochEvery  = 250 * time.Millisecond
)

// close stops the gateway and closes its stores.
func (rt *gatewayRuntime) close() {
	rt.gw.Close()
	if rt.audit != nil {
		// After the gateway: the outcomes of the last calls are written.
		if err := rt.audit.Close(); err != nil {
			rt.log.Error("closing the audit log", "err", err)
		}
	}
	if rt.hook != nil {
		// The last decisions still get a few seconds to reach the webhook.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		rt.hook.Close(ctx)
		cancel()
	}
	rt.store.Close()
	if rt.closeTokens != nil {
		rt.closeTokens()
	}
	if rt.grants != nil {
		rt.grants.Close()
	}
	if rt.counters != nil {
		rt.counters.Close()
	}
}

// loadConfig reads the configuration named by --config and reports every
// error in it.
func (a *app) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(a.configPath)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// policyName picks the policy of anonymous callers (auth: none): the one
// named "default", or the only one there is.
func policyName(cfg *config.Config) string {
	if _, ok := cfg.Policies["default"]; ok {
		return "default"
	}
	if len(cfg.Policies) == 1 {
		for name := range cfg.Policies {
			return name
		}
	}
	return ""
}

// gatewayOptions is what the configuration says of the gateway: its
// servers, in the file's order, and its bounds. What comes from elsewhere
// (the logger, the store, pins, the version) is left for the caller.
func gatewayOptions(cfg *config.Config) gateway.Options {
	servers := make([]gateway.Server, 0, len(cfg.ServerNames))
	for _, name := range cfg.ServerNames {
		s := cfg.Servers[name]
		failures := s.Breaker.Failures
		if failures == 0 {
			failures = -1 // off
		}
		servers = append(servers, gateway.Server{
			Name: name, Prefix: cfg.ToolPrefix(name),
			Command: s.Command, Env: s.Env, Dir: s.Cwd, InheritEnv: s.InheritEnv,
			URL: s.URL, Headers: s.Headers, Transport: s.Transport,
			Timeout: time.Duration(s.Timeout), Lazy: !s.Eager, Share: s.Share,
			BreakerFailures: failures, BreakerCooldown: time.Duration(s.Breaker.Cooldown),
		})
	}
	return gateway.Options{
		Servers:              servers,
		Poisoned:             cfg.Poisoned,
		MaxBodyBytes:         cfg.MaxBodyBytes,
		MaxDepth:             cfg.MaxDepth,
		AllowedOrigins:       cfg.AllowedOrigins,
		AllowedHosts:         cfg.AllowedHosts,
		UpstreamTimeout:      time.Duration(cfg.UpstreamTimeout),
		SessionIdleTimeout:   time.Duration(cfg.SessionIdleTimeout),
		MaxSessions:          cfg.MaxSessions,
		MaxSessionsPerClient: cfg.MaxSessionsPerClient,
		RequestStateKey:      stateKey(cfg.RequestStateKey),
		SessionQueue:         cfg.SessionQueue,
		SessionQueueBytes:    cfg.SessionQueueBytes,
		ReplayEvents:         cfg.StreamReplayEvents,
		ReplayBytes:          cfg.StreamReplayBytes,
		MaxInflightBytes:     cfg.MaxInflightBytes,
		ListPageSize:         cfg.ListPageSize,
		Methods:              maps.Clone(cfg.Methods),
	}
}

// runnable refuses settings this build cannot honour on the front
// ("http" or "stdio"), rather than running without them. check uses it
// too, so that what check calls valid, serve runs.
func runnable(cfg *config.Config, front string) error {
	if cfg.StorePath() == "" {
		return toolgate.Errorf(toolgate.Invalid, "%s: store %q: only sqlite:// is available in this build", cfg.File, cfg.Store)
	}
	if cfg.Limits != "memory" {
		return toolgate.Errorf(toolgate.Invalid, "%s: limits %q: only the in-memory limiter is available in this build", cfg.File, cfg.Limits)
	}
	keyChecked := false
	for _, name := range cfg.ServerNames {
		o := cfg.Servers[name].OAuth
		if o == nil {
			continue
		}
		if !keyChecked {
			if _, err := upstreamauth.LoadKey(cfg.OAuthKeyFile, os.Getenv); err != nil {
				return toolgate.Errorf(toolgate.Invalid, "%s: servers.%s.oauth: %v", cfg.File, name, err)
			}
			keyChecked = true
		}
		if o.ClientSecretFile != "" {
			if err := readableSecret(o.ClientSecretFile); err != nil {
				return toolgate.Errorf(toolgate.Invalid, "%s: servers.%s.oauth.client_secret_file: %v", cfg.File, name, err)
			}
		}
		if o.IdP != nil && o.IdP.ClientSecretFile != "" {
			if err := readableSecret(o.IdP.ClientSecretFile); err != nil {
				return toolgate.Errorf(toolgate.Invalid, "%s: servers.%s.oauth.idp.client_secret_file: %v", cfg.File, name, err)
			}
		}
		if o.PrivateKeyFile != "" {
			if _, err := upstreamauth.LoadClientKey(o.PrivateKeyFile, o.KeyID, o.SigningAlg); err != nil {
				return toolgate.Errorf(toolgate.Invalid, "%s: servers.%s.oauth.private_key_file: %v", cfg.File, name, err)
			}
		}
	}
	if front == "stdio" && cfg.Audit.Enabled {
		for i, s := range cfg.Audit.Sinks {
			if s.Type == config.SinkStdout {
				return toolgate.Errorf(toolgate.Invalid, "%s: audit.sinks[%d]: a stdout sink would write into the MCP stream of toolgate stdio; use a jsonl sink", cfg.File, i)
			}
		}
	}
	if front == "http" && cfg.Auth == "none" {
		host, _, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return toolgate.Errorf(toolgate.Invalid, "%s: listen %q: %v", cfg.File, cfg.Listen, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return toolgate.Errorf(toolgate.Invalid, "%s: auth: none serves anyone who can connect, so it is allowed on loopback addresses only (listen is %q)", cfg.File, cfg.Listen)
		}
	}
	return nil
}

// newRuntime builds the gateway the configuration describes. It refuses
// settings this build cannot honour rather than running without them.
func (a *app) newRuntime(cfg *config.Config, front string) (*gatewayRuntime, error) {
	if err := runnable(cfg, front); err != nil {
		return nil, err
	}
	var pins *scan.Pins
	if cfg.Pins != "" {
		p, err := scan.LoadPins(cfg.PinsPath())
		if err != nil {
			return nil, toolgate.Errorf(toolgate.Invalid, "%s: pins: %v", cfg.File, err)
		}
		pins = p
	}
	approvals, err := approval.OpenSQLite(context.Background(), cfg.StorePath())
	if err != nil {
		return nil, fmt.Errorf("%s: opening the store %s: %w", cfg.File, cfg.StorePath(), err)
	}
	opts := gatewayOptions(cfg)
	var grants *grant.SQLite
	var verifier *grant.Verifier
	var byGrant jwtauth.AuthenticateFunc
	if cfg.Auth == "grants" {
		if grants, err = grant.OpenSQLite(context.Background(), cfg.StorePath(), a.log); err != nil {
			approvals.Close()
			return nil, fmt.Errorf("%s: opening the grants in %s: %w", cfg.File, cfg.StorePath(), err)
		}
		verifier = &grant.Verifier{Store: grants, Logger: a.log, CacheFor: verifiedFor}
		byGrant = verifier.Verify
		opts.Authenticator = gateway.AuthenticatorFunc(verifier.Verify)
	}
	if cfg.JWT != nil {
		jv, err := a.jwtVerifier(cfg)
		if err != nil {
			approvals.Close()
			if grants != nil {
				grants.Close()
			}
			return nil, err
		}
		opts.Authenticator = gateway.AuthenticatorFunc(jwtauth.Dispatch(byGrant, jv.Verify))
		opts.ProtectedResource = &gateway.ProtectedResource{Resource: cfg.JWT.Resource, AuthorizationServers: []string{cfg.JWT.Issuer}}
	}
	mopts := &approval.ManagerOptions{ValidFor: time.Duration(cfg.Approvals.ValidFor)}
	var hook *webhook.Sender
	if w := cfg.Approvals.Webhook; w != nil {
		if hook, err = webhook.Start(webhook.Options{
			URL: w.URL, Secret: []byte(w.Secret), Timeout: time.Duration(w.Timeout),
			Retries: w.Retries, Queue: w.Queue, Logger: a.log,
		}); err != nil {
			approvals.Close()
			if grants != nil {
				grants.Close()
			}
			return nil, toolgate.Errorf(toolgate.Invalid, "%s: approvals.webhook: %v", cfg.File, err)
		}
		mopts.OnEvent = hook.Notify
	}
	counters, err := limitsqlite.Open(context.Background(), cfg.StorePath(), a.now, a.log)
	if err != nil {
		if hook != nil {
			hook.Close(context.Background())
		}
		approvals.Close()
		if grants != nil {
			grants.Close()
		}
		return nil, fmt.Errorf("%s: opening the counters in %s: %w", cfg.File, cfg.StorePath(), err)
	}
	opts.Counters = counters
	alog, adb, err := a.openAudit(context.Background(), cfg)
	if err != nil {
		if hook != nil {
			hook.Close(context.Background())
		}
		approvals.Close()
		if grants != nil {
			grants.Close()
		}
		counters.Close()
		return nil, err
	}
	if alog != nil {
		opts.Audit = alog
		opts.AuditArgs = audit.ArgsMode(cfg.Audit.Args)
	}
	if alog != nil {
		notify := mopts.OnEvent
		mopts.OnEvent = func(e approval.Event) {
			if notify != nil {
				notify(e)
			}
			auditApproval(alog, e, a.log)
		}
	}
	opts.Approvals = approval.NewManager(approvals, mopts)
	opts.ApprovalWait = time.Duration(cfg.Approvals.Wait)
	opts.ApprovalProgress = time.Duration(cfg.Approvals.ProgressEvery)
	opts.Pins = pins
	var warner *unmatchedWarner
	if front == "http" {
		a.progress = newUpstreamProgress(a.stdout)
		warner = &unmatchedWarner{log: a.log, seen: map[string]bool{}}
		opts.OnUpstreamState = func(st gateway.UpstreamStatus) {
			a.progress.changed(st)
			warner.changed(st)
		}
	}
	opts.Logger = a.log
	opts.Version = shortVersion()
	creds, closeTokens, err := a.upstreamCredentials(context.Background(), cfg)
	if err == nil {
		for i := range opts.Servers {
			if c, ok := creds[opts.Servers[i].Name]; ok {
				opts.Servers[i].Credentials = c
			}
		}
	}
	var gw *gateway.Gateway
	if err == nil {
		gw, err = gateway.New(&opts)
		if err != nil {
			closeTokens()
			err = toolgate.Errorf(toolgate.Invalid, "%s: %v", cfg.File, err)
		}
	}
	if err != nil {
		if alog != nil {
			alog.Close()
		}
		if hook != nil {
			hook.Close(context.Background())
		}
		approvals.Close()
		if grants != nil {
			grants.Close()
		}
		counters.Close()
		return nil, err
	}
	if warner != nil {
		warner.gw = gw // before StartUpstreams, the first caller of OnUpstreamState
	}
	rt := &gatewayRuntime{pinsPath: pinsPathOf(cfg), cfg: cfg, gw: gw, store: approvals, hook: hook, grants: grants, verifier: verifier, counters: counters, audit: alog, auditDB: adb, log: a.log, closeTokens: closeTokens}
	popts := &policy.Options{ListDefaultDenied: cfg.ListDefaultDenied}
	if cfg.Auth != "none" {
		// Every named policy is loaded: each grant (and auth.jwt) names
		// the one that decides its calls, and each file reloads on its own.
		names := slices.Sorted(maps.Keys(cfg.Policies))
		for _, name := range names {
			if path := cfg.PolicyPath(name); path != "" {
				pf := gateway.NewNamedPolicyFile(gw, name, path, popts)
				if err := pf.Load(); err != nil {
					rt.close()
					return nil, &reportedError{err: err}
				}
				rt.addFile(name, pf)
				continue
			}
			eng, err := policy.Load(cfg.Policies[name].Inline, cfg.File)
			if err != nil {
				rt.close()
				return nil, fmt.Errorf("inline policy %q: %w", name, err)
			}
			gw.SetNamedPolicy(name, eng.WithOptions(popts))
			rt.inline = append(rt.inline, name)
		}
		a.log.Info("a bearer token required on every request", "grants", cfg.Auth == "grants", "jwt", cfg.JWT != nil, "policies", names)
		return rt, nil
	}
	if front == "http" { // a stdio front has one caller: the process that started it
		a.log.Warn("auth: none: every caller is the same anonymous identity, with no token; use auth: grants to tell callers apart (docs/auth.md)", "listen", cfg.Listen)
	}
	name := policyName(cfg)
	switch {
	case name == "":
		names := make([]string, 0, len(cfg.Policies))
		for n := range cfg.Policies {
			names = append(names, n)
		}
		sort.Strings(names)
		a.log.Warn("no policy applies to anonymous callers, so every tools/call is denied; name one policy \"default\"", "policies", names)
	case cfg.PolicyPath(name) != "":
		pf := gateway.NewPolicyFile(gw, cfg.PolicyPath(name), popts)
		if err := pf.Load(); err != nil {
			rt.close()
			return nil, &reportedError{err: err}
		}
		rt.addFile(name, pf)
	default:
		eng, err := policy.Load(cfg.Policies[name].Inline, cfg.File)
		if err != nil {
			rt.close()
			return nil, fmt.Errorf("inline policy %q: %w", name, err)
		}
		gw.SetPolicy(eng.WithOptions(popts))
		rt.inline = append(rt.inline, name)
		a.log.Info("policy loaded", "policy", name, "inline", true)
	}
	return rt, nil
}

// approvalEventWait bounds how long recording an approval event may
// wait for room in the audit log's queue: the approval manager's events
// must not block.
const approvalEventWait = 100 * time.Millisecond

// auditApproval records in the audit log that a call was held for a
// human (approval.requested, by the call's subject) or that nobody decided
// in time (approval.expired). Approvals and denials are recorded where
// they are made, with the admin token's subject (the admin API).
func auditApproval(l *audit.Log, e approval.Event, log *slog.Logger) {
	r := e.Request
	var ev *audit.Event
	switch {
	case e.Type == approval.EventRequested:
		ev = audit.Admin(audit.ActionApprovalRequested, r.Subject, r.ID,
			fmt.Sprintf("tool=%s server=%s rule=%s expires=%s", r.Tool, r.Server, r.Rule, r.ExpiresAt.UTC().Format(time.RFC3339)))
	case e.Type == approval.EventDecided && r.Status == approval.Expired:
		ev = audit.Admin(audit.ActionApprovalExpired, "toolgate", r.ID, fmt.Sprintf("tool=%s server=%s subject=%s", r.Tool, r.Server, r.Subject))
	default:
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), approvalEventWait)
	defer cancel()
	if err := l.Enqueue(ctx, ev); err != nil {
		log.Error("recording an approval event in the audit log failed", "action", ev.Action, "approval", r.ID, "err", err)
	}
}

// addFile records pf as the file of the policy name.
func (rt *gatewayRuntime) addFile(name string, pf *gateway.PolicyFile) {
	rt.policies = append(rt.policies, pf)
	if rt.byName == nil {
		rt.byName = map[string]*gateway.PolicyFile{}
	}
	rt.byName[name] = pf
}

// adminRoutes are the admin API's routes beyond the gateway's own: the
// policies, and the grants with auth: grants.
func (rt *gatewayRuntime) adminRoutes(log *slog.Logger) []func(*http.ServeMux) {
	routes := []func(*http.ServeMux){gateway.PolicyRoutes(rt.byName, rt.inline, log)}
	if rt.grants != nil {
		api := &admin.Grants{
			Store:    rt.grants,
			Policies: func() []string { return slices.Collect(maps.Keys(rt.cfg.Policies)) },
			Servers:  rt.cfg.ServerNames,
			Changed: func(id string) {
				// At once: the token cached as verified, and the sessions
				// opened under what the grant was.
				rt.verifier.Forget()
				rt.gw.EndGrantSessions(id)
			},
			Log: log,
			Record: func(ctx context.Context, action, actor, target, detail string) {
				rt.gw.AuditAdmin(ctx, audit.Admin(action, actor, target, detail))
			},
		}
		routes = append(routes, api.Register)
	}
	if rt.auditDB != nil {
		routes = append(routes, admin.AuditRoutes(rt.audit.ReadAfter(rt.auditDB), log))
	}
	if rt.audit != nil {
		routes = append(routes, admin.AuditStatsRoutes(rt.audit))
	}
	return routes
}

// openAudit opens the sinks of the audit section and the log over them;
// nil when the audit log is off. The second result is the sqlite sink,
// which the admin API reads, when there is one.
func (a *app) openAudit(ctx context.Context, cfg *config.Config) (*audit.Log, *audit.SQLite, error) {
	ac := cfg.Audit
	if !ac.Enabled {
		a.log.Warn("the audit log is off (audit: {enabled: false}): calls are forwarded with no record")
		return nil, nil, nil
	}
	instance := ac.Instance
	if instance == "" {
		instance, _ = os.Hostname()
	}
	var sinks []audit.Sink
	closeAll := func() {
		for _, s := range sinks {
			s.Close()
		}
	}
	var db *audit.SQLite
	opts := audit.Options{Instance: instance, Logger: a.log}
	for i, sc := range ac.Sinks {
		var s audit.Sink
		name := sc.Type
		switch sc.Type {
		case config.SinkSQLite:
			d, err := audit.OpenSQLite(ctx, cfg.StorePath(), &audit.SQLiteOptions{Fsync: sc.Fsync, Logger: a.log})
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("%s: audit.sinks[%d]: opening the audit log in %s: %w", cfg.File, i, cfg.StorePath(), err)
			}
			// A damaged file is refused now, rather than appended to
			// until a read or a verify stumbles on it.
			start := time.Now()
			if err := d.Check(ctx); err != nil {
				d.Close()
				closeAll()
				return nil, nil, fmt.Errorf("%s: audit.sinks[%d]: %w", cfg.File, i, err)
			}
			a.log.Debug("audit store checked", "path", cfg.StorePath(), "took", time.Since(start))
			s, db, name = d, d, "sqlite "+cfg.StorePath()
		case config.SinkJSONL:
			j, err := audit.OpenJSONL(sc.Path, &audit.JSONLOptions{MaxBytes: sc.MaxBytes, Keep: sc.Keep, NoFsync: !sc.Fsync, Logger: a.log})
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("%s: audit.sinks[%d]: %w", cfg.File, i, err)
			}
			s, name = j, "jsonl "+sc.Path
		case config.SinkStdout:
			s = audit.NewWriter(a.stdout)
		case config.SinkHTTP:
			h, err := audit.OpenHTTP(httpSinkOptions(sc, a.log))
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("%s: audit.sinks[%d]: %w", cfg.File, i, err)
			}
			s, name = h, "http "+sc.URL
		default:
			closeAll()
			return nil, nil, toolgate.Errorf(toolgate.Invalid, "%s: audit.sinks[%d]: unknown type %q", cfg.File, i, sc.Type)
		}
		sinks = append(sinks, s)
		if i == 0 {
			c, ok := s.(audit.Chain)
			if !ok {
				closeAll()
				return nil, nil, toolgate.Errorf(toolgate.Invalid, "%s: audit.sinks[0]: a %s sink cannot be the primary", cfg.File, sc.Type)
			}
			opts.Primary, opts.PrimaryName = c, name
			continue
		}
		opts.Secondaries = append(opts.Secondaries, audit.Secondary{Name: name, Sink: s, Continue: sc.OnError == "continue"})
	}
	if _, finds := opts.Primary.(audit.Finder); ac.Journal && finds && db != nil {
		dir := audit.JournalDir(cfg.StorePath())
		j, err := audit.OpenJournal(dir, &audit.JournalOptions{Fsync: ac.Sinks[0].Fsync, Logger: a.log})
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("%s: audit.journal: %w", cfg.File, err)
		}
		opts.Journal = j
	}
	l, err := audit.Open(ctx, opts)
	if err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("%s: opening the audit log: %w", cfg.File, err)
	}
	journal := ""
	if opts.Journal != nil {
		journal = opts.Journal.Dir()
	}
	a.log.Info("audit log open", "primary", opts.PrimaryName, "sinks", len(ac.Sinks), "args", ac.Args, "instance", instance, "journal", journal)
	return l, db, nil
}

// httpSinkOptions turns an http sink's configuration into the options
// of audit.OpenHTTP.
func httpSinkOptions(sc config.AuditSink, log *slog.Logger) audit.HTTPOptions {
	h := http.Header{}
	for k, v := range sc.Headers {
		h.Set(k, v)
	}
	return audit.HTTPOptions{URL: sc.URL, Header: h, Batch: sc.Batch, Flush: time.Duration(sc.Flush),
		Timeout: time.Duration(sc.Timeout), Retries: sc.Retries, Queue: sc.Queue, Logger: log}
}

// watch keeps the policy files and the grant cache current until ctx
// ends: policy files polled for changes,
// and reloaded at once on every value from hup.
func (rt *gatewayRuntime) watch(ctx context.Context, hup <-chan os.Signal) {
	if rt.verifier != nil {
		go rt.verifier.Watch(ctx, epochEvery)
	}
	if rt.pinsPath != "" {
		go rt.watchPins(ctx, time.Second)
	}
	if len(rt.policies) == 1 {
		rt.policies[0].Watch(ctx, time.Second, hup)
		return
	}
	// Several files: each polled on its own; a signal reloads them all.
	subs := make([]chan os.Signal, len(rt.policies))
	var wg sync.WaitGroup
	for i, pf := range rt.policies {
		subs[i] = make(chan os.Signal, 1)
		wg.Add(1)
		go func() { defer wg.Done(); pf.Watch(ctx, time.Second, subs[i]) }()
	}
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case sig := <-hup:
			for _, c := range subs {
				select {
				case c <- sig:
				default:
				}
			}
		}
	}
}

// jwtVerifier builds the verifier of auth.jwt and reads its key set once:
// an unreadable jwks_file stops the start; an unreachable jwks_url is
// logged, and JWTs get 503 until the keys can be fetched.
func (a *app) jwtVerifier(cfg *config.Config) (*jwtauth.Verifier, error) {
	j := cfg.JWT
	jv, err := jwtauth.New(jwtauth.Config{
		Issuer: j.Issuer, Audience: j.Audience, JWKSURL: j.JWKSURL, JWKSFile: j.JWKSFile,
		SubjectClaim: j.SubjectClaim, LabelClaims: j.LabelClaims, Policy: j.Policy,
		Algorithms: j.Algorithms, Refresh: time.Duration(j.JWKSRefresh), Logger: a.log,
	})
	if err != nil {
		return nil, toolgate.Errorf(toolgate.Invalid, "%s: auth.%v", cfg.File, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := jv.Load(ctx); err != nil {
		if j.JWKSFile != "" {
			return nil, toolgate.Errorf(toolgate.Invalid, "%s: auth.jwt.jwks_file: %v", cfg.File, err)
		}
		a.log.Warn("could not fetch the JWT issuer's keys; JWTs are refused with 503 until they can be", "jwks_url", j.JWKSURL, "err", err)
	}
	return jv, nil
}

func pinsPathOf(cfg *config.Config) string {
	if cfg.Pins == "" {
		return ""
	}
	return cfg.PinsPath()
}

// watchPins puts the pins file's content in force whenever it changes
// (toolgate scan --pin accepting changed definitions), checking every
// interval until ctx ends. A file that cannot be read or parsed leaves the
// pins in force, with an error in the log.
func (rt *gatewayRuntime) watchPins(ctx context.Context, interval time.Duration) {
	last, _ := os.ReadFile(rt.pinsPath)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		data, err := os.ReadFile(rt.pinsPath)
		if err != nil || bytes.Equal(data, last) {
			continue
		}
		last = data
		p, err := scan.LoadPins(rt.pinsPath)
		if err != nil {
			rt.log.Error("the pins file changed but cannot be read; keeping the pins in force", "path", rt.pinsPath, "err", err)
			continue
		}
		rt.gw.SetPins(p)
		rt.log.Info("pins reloaded", "path", rt.pinsPath)
	}
}

// stateKey is the request_state_key as bytes; nil when none is set (the
// gateway then makes a random one).
func stateKey(key string) []byte {
	if key == "" {
		return nil
	}
	return []byte(key)
}
