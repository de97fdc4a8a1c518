package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/api"
	"github.com/lambhq/lamb/console"
	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend/kubernetes"
	"github.com/lambhq/lamb/engine/backend/process"
	"github.com/lambhq/lamb/metrics"
	"github.com/lambhq/lamb/store"
)

type serveOptions struct {
	addr                 string
	dataDir              string
	ephemeral            bool
	backend              string
	region               string
	accountID            string
	maxInstances         int
	idleTTL              time.Duration
	python               string
	prestart             bool
	agentBinary          string // docker backend: a Linux lamb or lamb-agent for containers
	node                 string
	interpreters         []string
	logLevel             string
	logFormat            string
	asyncRetryDelay      time.Duration
	destinationsEndpoint string
	s3Endpoint           string
	runtimeImages        []string
	kube                 kubeOptions
	credentials          []string
	credentialsFile      string
	insecureNoAuth       bool
	allowHosts           []string
	allowOrigins         []string
	watchdogFor          string // set: run as the watchdog of the server with this ID
	urlsWithoutPolicy    bool
	templates            []string // deployed at start-up (deploy.go)
	obs                  observabilityOptions
	eventSources         eventSourceOptions
	debug                debugOptions // serve_debug.go
}

func newServeCmd() *cobra.Command {
	o := serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the Lambda API and run functions",
		Long: `Serve the AWS Lambda API (and the functions' runtimes) on one port.

Every flag can also be set with an environment variable LAMB_<FLAG>, e.g. LAMB_ADDR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.watchdogFor != "" {
				return runWatchdog(context.WithoutCancel(cmd.Context()), o, os.Stdin)
			}
			return serve(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:3001", "address to listen on (3001 is sam local start-lambda's port)")
	f.StringVar(&o.dataDir, "data-dir", defaultDataDir(), "where state, code and instance files live")
	f.BoolVar(&o.ephemeral, "ephemeral", false, "keep all state in memory (nothing survives a restart)")
	f.StringVar(&o.backend, "backend", "auto", "where functions run: auto (Docker/Podman when one answers, else process)|process|docker|kubernetes")
	f.StringArrayVar(&o.runtimeImages, "runtime-image", nil, "KEY=IMAGE: run runtime (python3.12) or family (python, nodejs, provided) KEY in IMAGE on container backends; repeatable (env LAMB_RUNTIME_IMAGES=K=I,K=I)")
	f.StringVar(&o.region, "region", "us-east-1", "region for requests that carry none (unsigned)")
	f.StringVar(&o.accountID, "account-id", "000000000000", "account id for requests that carry none")
	f.IntVar(&o.maxInstances, "max-instances", 10, "instances per function when it has no reserved concurrency")
	f.DurationVar(&o.idleTTL, "idle-ttl", 10*time.Minute, "stop instances idle for this long")
	f.StringVar(&o.python, "python", "python3", "python interpreter for python runtimes (process backend)")
	f.StringVar(&o.agentBinary, "agent-binary", "", "docker backend: Linux lamb or lamb-agent binary run in containers (default: this lamb binary, which must then be a Linux one)")
	f.StringVar(&o.node, "node", "node", "node binary for nodejs runtimes (process backend)")
	f.BoolVar(&o.prestart, "prestart", true, "faster cold starts. Process backend, Linux: python and node runtimes from interpreters started ahead (python forked from a zygote, node from spares); functions that need a fresh interpreter still get one. Docker/Podman: after each launch, a container of the same function version started ahead, whose runtime starts when the next cold start claims it")
	f.StringArrayVar(&o.interpreters, "runtime-interpreter", nil, "RUNTIME=PATH: run RUNTIME (python3.12, nodejs22.x) on this interpreter (process backend; default: one named after the version on PATH, else --python/--node); repeatable")
	f.StringArrayVar(&o.credentials, "credentials", nil, "ACCESS_KEY:SECRET: verify SigV4 signatures, accepting only these credentials; repeatable (env LAMB_CREDENTIALS=AK:S,AK:S)")
	f.StringVar(&o.credentialsFile, "credentials-file", "", "file of ACCESS_KEY:SECRET lines, as --credentials")
	f.BoolVar(&o.insecureNoAuth, "insecure-no-auth", false, "serve a non-loopback --addr without --credentials: anyone who reaches it can run code on this machine")
	f.StringArrayVar(&o.allowHosts, "allow-host", nil, "host name (no port) clients may address lamb by beyond loopback and its listen address, e.g. a Service name; \"*\" any; repeatable")
	f.StringArrayVar(&o.allowOrigins, "allow-origin", nil, "web origin (http://localhost:5173) whose pages may call the API, with CORS answers; \"*\" any; repeatable")
	f.BoolVar(&o.urlsWithoutPolicy, "urls-without-policy", false, "serve AuthType NONE function URLs to anyone, without the public resource policy AWS requires (lambda:InvokeFunctionUrl and lambda:InvokeFunction allowed to \"*\"); lamb urls shows what is missing")
	f.StringArrayVar(&o.templates, "template", nil, "SAM or CloudFormation template to deploy at start-up, as lamb deploy does; repeatable")
	addKubernetesFlags(f, &o.kube)
	f.StringVar(&o.watchdogFor, "watchdog-for", "", "internal: run as the watchdog of the server with this ID (see watchdog.go)")
	_ = f.MarkHidden("watchdog-for")
	addObservabilityFlags(f, &o.obs)
	addEventSourceFlags(f, &o.eventSources)
	addDebugFlags(f, &o.debug)
	f.StringVar(&o.logLevel, "log-level", "info", "debug|info|warn|error")
	f.StringVar(&o.logFormat, "log-format", "text", "text|json")
	f.DurationVar(&o.asyncRetryDelay, "async-retry-delay", time.Minute, "wait before the first retry of a failed Event invocation (the second waits twice as long)")
	f.StringVar(&o.s3Endpoint, "s3-endpoint", "", "S3-compatible endpoint (LocalStack, MinIO, moto's server, real S3) that code given as S3Bucket/S3Key is fetched from")
	f.StringVar(&o.destinationsEndpoint, "destinations-endpoint", "", "AWS-compatible endpoint (e.g. http://localhost:4566) receiving SQS/SNS/EventBridge destinations of Event invocations")
	return cmd
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "lamb")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "lamb")
	}
	return filepath.Join(os.TempDir(), "lamb")
}

func newLogger(level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func serve(ctx context.Context, o serveOptions) error {
	start := time.Now()
	log, err := newLogger(o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	creds, err := loadCredentials(o.credentials, o.credentialsFile)
	if err != nil {
		return err
	}
	if err := checkExposure(o.addr, creds, o.insecureNoAuth); err != nil {
		return err
	}

	var st store.Store
	stateDesc := "memory (--ephemeral)"
	var workDir string
	if o.ephemeral {
		st = store.NewMemory()
		if workDir, err = os.MkdirTemp("", "lamb-run-"); err != nil {
			return fmt.Errorf("create work dir: %w", err)
		}
		defer os.RemoveAll(workDir)
	} else {
		b, err := store.Open(ctx, o.dataDir)
		if err != nil {
			return err
		}
		st, stateDesc = b, o.dataDir
		// As root the process backend runs functions as their accounts' uids,
		// which must not reach the data dir: its work dir lives outside it.
		if workDir, err = process.WorkDirFor(o.dataDir); err != nil {
			return err
		}
		// Outside the data dir, nothing of a stopped server's stays: its own
		// work dir goes when it stops, those of deleted data dirs now.
		if err := process.ClaimWorkDir(workDir, o.dataDir); err != nil {
			return err
		}
		defer func() {
			if err := process.RemoveWorkDir(workDir, o.dataDir); err != nil {
				log.Warn("removing the work dir", "dir", workDir, "error", err)
			}
		}()
		if gone, err := process.SweepWorkDirs(); err != nil || len(gone) > 0 {
			log.Debug("removed the work dirs of deleted data dirs", "dirs", gone, "error", err)
		}
	}
	defer st.Close()

	id, err := serverID(o)
	if err != nil {
		return err
	}
	life, err := lockLife(ctx, lifeLockPath(o, id), 30*time.Second, log)
	if err != nil {
		return err
	}
	defer life.Close()
	// Functions in containers and Pods reach the API through their agents'
	// tunnels, which arrive here: lamb listens on no address of theirs.
	tunnels := agentapi.NewListener(nil)
	be, err := newBackend(ctx, o, workDir, id, tunnels, log)
	if err != nil {
		return err
	}
	// Containers and Pods outlive a killed lamb; process runtimes do not,
	// where the OS kills them with it (Linux).
	if be.Name() != "process" || !process.RuntimesDieWithServer {
		wd, err := startWatchdog(id)
		if err != nil {
			log.Warn("no watchdog: a lamb killed with SIGKILL leaves its instances until the next start", "error", err)
		} else {
			defer wd.stop()
		}
	}
	logs := api.NewLogbook(0, api.WithLogRetention(o.obs.logRetention), api.WithLogMaxEvents(o.obs.logMaxEvents))
	mets := metrics.New(version, be.Name())
	debugTargets, err := o.debug.debugTargets()
	if err != nil {
		return err
	}
	eng := engine.New(be,
		engine.WithDebug(debugTargets...),
		engine.WithLogger(log),
		engine.WithMaxInstances(o.maxInstances),
		engine.WithIdleTTL(o.idleTTL),
		engine.WithServerID(id),
		engine.WithObserver(observer{logs: logs, metrics: mets}),
	)
	// Instances left by an earlier server that died are ours to clean up.
	if err := eng.Reap(ctx); err != nil {
		log.Warn("reaping instances of an earlier server", "error", err)
	}
	es := newEventSources(o.eventSources, log)
	srv := api.New(api.Config{
		Store:       st,
		Engine:      eng,
		Logbook:     logs,
		Metrics:     mets.Handler(),
		Observer:    mets,
		Console:     console.Handler("/_lamb/ui/"),
		Logger:      log,
		AccountID:   o.accountID,
		Region:      o.region,
		Version:     version,
		BackendName: be.Name(),

		AsyncRetryDelay:      o.asyncRetryDelay,
		DestinationsEndpoint: o.destinationsEndpoint,
		EventSources:         es.poller(),

		Credentials:    creds,
		ListenHosts:    []string{listenHost(o.addr)},
		AllowedHosts:   o.allowHosts,
		AllowedOrigins: o.allowOrigins,

		URLsWithoutPolicy: o.urlsWithoutPolicy,
		HotReloadBucket:   os.Getenv("BUCKET_MARKER_LOCAL"), // LocalStack's name for it (hot reload)
		S3:                s3Code(o.s3Endpoint),
	})

	watch(mets, eng, srv)

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	// Tunnelled requests come from lamb's own sandboxes: no browser guard,
	// no signature to check (the agent's connection is lamb's own).
	ts := &http.Server{Handler: srv.Internal(), ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	servers := map[net.Listener]*http.Server{ln: hs, tunnels: ts}
	listeners := []net.Listener{ln, tunnels}
	if kb, ok := be.(*kubernetes.Backend); ok {
		// Pods fetch code from lamb's artifact endpoint at the self URL.
		hs.Handler = withKubeArtifacts(srv, kb)
		extra, err := kubeListener(o.kube.selfURL, ln, log)
		if err != nil {
			ln.Close()
			return err
		}
		if extra != nil {
			listeners = append(listeners, extra)
			servers[extra] = hs
		}
	}
	auth := "none: requests are not verified (loopback only)"
	switch {
	case len(creds) > 0:
		auth = fmt.Sprintf("SigV4, %d credential(s)", len(creds))
	case o.insecureNoAuth:
		auth = "NONE (--insecure-no-auth): anyone who reaches " + o.addr + " can run code here"
	}
	attrs := []any{"addr", "http://" + ln.Addr().String(), "backend", be.Name(),
		"state", stateDesc, "auth", auth, "version", version, "startup", time.Since(start).Round(time.Millisecond)}
	if pb, ok := be.(*process.Backend); ok {
		attrs = append(attrs, "interpreters", pb.Interpreters(), "isolation", pb.Isolation())
	}
	log.Info("lamb is serving", attrs...)

	// Provisioned concurrency outlives restarts: its instances start again in
	// the background (the listeners are bound, so instances that call back —
	// Pods fetching code, SDK calls — are answered once serving begins).
	if err := srv.RestoreProvisioned(ctx); err != nil {
		log.Warn("restoring provisioned concurrency", "error", err)
	}
	// Event invocations accepted by an earlier server and not finished run now.
	if err := srv.RestoreAsync(ctx); err != nil {
		log.Warn("restoring queued Event invocations", "error", err)
	}
	// Blobs whose last reference was deleted just before a crash go now.
	srv.CollectGarbage()

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.RunSchedules(gctx, time.Second) }) // Schedule events of deployed templates
	if len(o.templates) > 0 {
		g.Go(func() error {
			return deployAtStart(gctx, "http://"+ln.Addr().String(), o.s3Endpoint, creds, o.templates, log)
		})
	}
	for _, l := range listeners {
		g.Go(func() error {
			if err := servers[l].Serve(l); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve %s: %w", l.Addr(), err)
			}
			return nil
		})
	}
	g.Go(func() error { return es.run(gctx, srv, log) })
	g.Go(func() error {
		err := eng.RunCleanup(gctx, o.idleTTL)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	})
	g.Go(func() error {
		<-gctx.Done()
		log.Info("lamb is shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Order matters: stop taking requests, then background API work, then
		// instances. The engine closes the backend it owns.
		err := errors.Join(hs.Shutdown(sctx), ts.Shutdown(sctx))
		err = errors.Join(err, srv.Close(sctx))
		err = errors.Join(err, eng.Close(sctx))
		return err
	})
	return g.Wait()
}

// serverID names this server on the instances it starts. It is the same
// every time the same server starts (one per data dir, or per address with
// --ephemeral: neither can be used by two live servers at once), so that a
// server finds and removes what a dead predecessor left behind, and never
// touches instances of other servers that may be alive. An ephemeral server
// on port 0 shares its address with any number of live ones: its ID is its
// own (its watchdog removes what it leaves).
func serverID(o serveOptions) (string, error) {
	var r [8]byte
	if o.ephemeral {
		if _, port, err := net.SplitHostPort(o.addr); err == nil && port != "0" {
			return "ephemeral-" + o.addr, nil
		}
		if _, err := rand.Read(r[:]); err != nil {
			return "", err
		}
		return "ephemeral-" + hex.EncodeToString(r[:]), nil
	}
	p := filepath.Join(o.dataDir, "server-id")
	if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
		return string(b), nil
	}
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	id := hex.EncodeToString(r[:])
	if err := os.WriteFile(p, []byte(id), 0o644); err != nil {
		return "", fmt.Errorf("write server id: %w", err)
	}
	return id, nil
}
