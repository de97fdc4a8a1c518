package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/backend/kubernetes"
)

// kubeOptions are the --k8s-* flags of `lamb serve` (each also LAMB_K8S_*).
type kubeOptions struct {
	selfURL        string
	namespace      string
	kubeconfig     string
	context        string
	initImage      string
	serviceAccount string
	pullPolicy     string
	nodeSelector   []string
	tolerations    []string
	annotations    []string
	pullSecrets    []string
	grace          time.Duration
}

// addKubernetesFlags defines the --k8s-* flags on fs.
func addKubernetesFlags(fs *pflag.FlagSet, o *kubeOptions) {
	fs.StringVar(&o.selfURL, "k8s-self-url", "", "kubernetes: URL Pods reach lamb at, e.g. http://10.244.0.1:3001 (required)")
	fs.StringVar(&o.namespace, "k8s-namespace", "default", "kubernetes: namespace for function Pods")
	fs.StringVar(&o.kubeconfig, "k8s-kubeconfig", "", "kubernetes: kubeconfig file (default: in-cluster service account, then $KUBECONFIG, ~/.kube/config)")
	fs.StringVar(&o.context, "k8s-context", "", "kubernetes: kubeconfig context (default: current)")
	fs.StringVar(&o.initImage, "k8s-init-image", "", "kubernetes: lamb's own image for the Pods' init container (scripts/build-lamb-image.sh prints it; required)")
	fs.StringVar(&o.serviceAccount, "k8s-service-account", "", "kubernetes: service account of function Pods (its token is never mounted)")
	fs.StringVar(&o.pullPolicy, "k8s-pull-policy", "IfNotPresent", "kubernetes: image pull policy: Always|IfNotPresent|Never")
	fs.StringSliceVar(&o.nodeSelector, "k8s-node-selector", nil, "kubernetes: KEY=VALUE node selector of function Pods; repeatable")
	fs.StringSliceVar(&o.tolerations, "k8s-toleration", nil, "kubernetes: KEY[=VALUE][:EFFECT] toleration of function Pods, or *; repeatable")
	fs.StringSliceVar(&o.annotations, "k8s-annotation", nil, "kubernetes: KEY=VALUE annotation on function Pods; repeatable")
	fs.StringSliceVar(&o.pullSecrets, "k8s-image-pull-secret", nil, "kubernetes: image pull secret for function Pods; repeatable")
	fs.DurationVar(&o.grace, "k8s-termination-grace", 2*time.Second, "kubernetes: termination grace period of function Pods")
}

// newKubernetesBackend connects to the cluster; a bad configuration or an
// unreachable cluster is an error (never a fall back). The caller mounts
// b.ArtifactHandler() at kubernetes.ArtifactPath on lamb's listener (see
// withKubeArtifacts) and serves on kubeListener's listener too.
func newKubernetesBackend(ctx context.Context, o kubeOptions, runtimeImages map[string]string, serverID string, api *agentapi.Listener, log *slog.Logger) (*kubernetes.Backend, error) {
	cfg := kubernetes.Config{API: api,
		SelfURL: o.selfURL, InitImage: o.initImage, Namespace: o.namespace, Kubeconfig: o.kubeconfig,
		Context: o.context, ServerID: serverID, RuntimeImages: runtimeImages, ServiceAccount: o.serviceAccount,
		ImagePullSecrets: o.pullSecrets, PullPolicy: corev1.PullPolicy(o.pullPolicy), TerminationGrace: o.grace,
		Logger: log,
	}
	var err error
	if cfg.NodeSelector, err = kubernetes.ParseKeyValues(o.nodeSelector); err != nil {
		return nil, fmt.Errorf("--k8s-node-selector: %w", err)
	}
	if cfg.Annotations, err = kubernetes.ParseKeyValues(o.annotations); err != nil {
		return nil, fmt.Errorf("--k8s-annotation: %w", err)
	}
	for _, s := range o.tolerations {
		t, err := kubernetes.ParseToleration(s)
		if err != nil {
			return nil, fmt.Errorf("--k8s-toleration: %w", err)
		}
		cfg.Tolerations = append(cfg.Tolerations, t)
	}
	b, err := kubernetes.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("--backend kubernetes: %w", err)
	}
	return b, nil
}

// withKubeArtifacts serves the backend's artifact endpoint beside h.
func withKubeArtifacts(h http.Handler, b *kubernetes.Backend) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(kubernetes.ArtifactPath, b.ArtifactHandler())
	mux.Handle("/", h)
	return mux
}

// kubeListener opens a second listener at the self URL's address when it is
// an address of this machine that main does not already cover (lamb stays on
// loopback by default; Pods reach it at, e.g., the cluster bridge's gateway).
// It returns nil when nothing more is needed.
func kubeListener(selfURL string, main net.Listener, log *slog.Logger) (net.Listener, error) {
	u, err := url.Parse(selfURL)
	if err != nil {
		return nil, fmt.Errorf("--k8s-self-url: %w", err)
	}
	ip := net.ParseIP(u.Hostname())
	maddr := main.Addr().(*net.TCPAddr)
	if ip == nil || maddr.IP.IsUnspecified() || ip.Equal(maddr.IP) || !isLocalIP(ip) {
		return nil, nil // a name, a Service, or already covered: not ours to listen on
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), port))
	if err != nil {
		return nil, fmt.Errorf("listen for Pods at %s: %w", u.Host, err)
	}
	log.Info("listening for Pods", "addr", ln.Addr().String())
	return ln, nil
}

func isLocalIP(ip net.IP) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// newKubeInitCmd is the hidden `lamb k8s-init` mode: the init container of
// every Pod the kubernetes backend starts (see kubernetes.InitMain).
func newKubeInitCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "k8s-init",
		Short:              "Prepare a function Pod (internal)",
		Hidden:             true,
		DisableFlagParsing: true,
		SilenceUsage:       true,
		Run: func(cmd *cobra.Command, args []string) {
			os.Exit(kubernetes.InitMain(args, cmd.ErrOrStderr()))
		},
	}
}
