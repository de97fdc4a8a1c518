package kubernetes

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/lambhq/lamb/agent/agentapi"
)

// Config configures the backend. SelfURL and InitImage are required.
type Config struct {
	// SelfURL is how Pods reach this lamb server (e.g. "http://10.244.0.1:9000"
	// or "http://lamb.lamb.svc:9000"): the init container fetches artifacts
	// from it. Without API it is AWS_ENDPOINT_URL inside functions too.
	SelfURL string
	// API, when set, receives the connections functions open to lamb's API:
	// each Pod's agent serves AWS_ENDPOINT_URL on the Pod's own loopback
	// (agentapi.EndpointURL) and carries its connections to lamb through
	// tunnels over the connection lamb holds to the agent at the Pod IP,
	// which this backend hands to API. Serve lamb's API on it.
	API *agentapi.Listener
	// InitImage is lamb's own image (scripts/build-lamb-image.sh), run as the
	// init container.
	InitImage string
	// Namespace Pods are created in (default "default").
	Namespace string
	// Kubeconfig is a kubeconfig file. Empty: the in-cluster service account
	// when running in a Pod, else KUBECONFIG / ~/.kube/config.
	Kubeconfig string
	// Context selects a kubeconfig context (default: the current one).
	Context string
	// REST, when set, is used as is instead of Kubeconfig (tests, embedders).
	REST *rest.Config

	// ServerID identifies this lamb server on Pod labels; Reap deletes Pods
	// labelled with another one. Default "lamb".
	ServerID string
	// RuntimeImages maps a runtime ID ("python3.12") or family ("python") to
	// its image; the runtime ID wins. Unmapped runtimes use Spec.Image, then
	// AWS's base image.
	RuntimeImages map[string]string

	NodeSelector     map[string]string
	Tolerations      []corev1.Toleration
	Annotations      map[string]string // added to every Pod
	ImagePullSecrets []string
	ServiceAccount   string // for Pods; its token is never mounted
	// PullPolicy for the runtime and init images (default IfNotPresent).
	PullPolicy corev1.PullPolicy
	// TerminationGrace is the Pods' termination grace period (default 2 s).
	TerminationGrace time.Duration
	// AgentLease is how long a Pod's agent runs on without lamb holding its
	// event stream (default 5 s; agentapi.EnvLease): a lamb killed together
	// with its watchdog leaves no Pod running, only Pods that ended, which
	// the next start removes. A Pod's first stream gets at least 30 s.
	AgentLease time.Duration
	// StartTimeout bounds scheduling, image pulls and the init container
	// (default 2 min) on top of the caller's context.
	StartTimeout time.Duration

	Logger *slog.Logger // default: discard
}

// ErrConfig wraps every configuration error New reports.
var ErrConfig = errors.New("kubernetes backend: bad configuration")

func (c *Config) setDefaults() {
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	if c.ServerID == "" {
		c.ServerID = "lamb"
	}
	if c.PullPolicy == "" {
		c.PullPolicy = corev1.PullIfNotPresent
	}
	if c.TerminationGrace <= 0 {
		c.TerminationGrace = 2 * time.Second
	}
	if c.AgentLease <= 0 {
		c.AgentLease = 5 * time.Second
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 2 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.SelfURL == "" {
		errs = append(errs, errors.New("the URL Pods reach lamb at is not set (--k8s-self-url / LAMB_K8S_SELF_URL)"))
	} else if u, err := url.Parse(c.SelfURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("self URL %q: want http(s)://host:port", c.SelfURL))
	} else if h := u.Hostname(); h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" {
		errs = append(errs, fmt.Errorf("self URL %q: a loopback address is not reachable from Pods", c.SelfURL))
	}
	if c.InitImage == "" {
		errs = append(errs, errors.New("the init image is not set (--k8s-init-image; build it with scripts/build-lamb-image.sh)"))
	}
	if msgs := validation.IsDNS1123Label(c.Namespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("namespace %q: %s", c.Namespace, strings.Join(msgs, "; ")))
	}
	switch c.PullPolicy {
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		errs = append(errs, fmt.Errorf("pull policy %q: want Always, IfNotPresent or Never", c.PullPolicy))
	}
	for k, v := range c.NodeSelector {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("node selector key %q: %s", k, strings.Join(msgs, "; ")))
		}
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("node selector value %q: %s", v, strings.Join(msgs, "; ")))
		}
	}
	for k := range c.Annotations {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("annotation key %q: %s", k, strings.Join(msgs, "; ")))
		}
	}
	for _, s := range append(c.ImagePullSecrets, c.ServiceAccount) {
		if s == "" {
			continue
		}
		if msgs := validation.IsDNS1123Subdomain(s); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("name %q: %s", s, strings.Join(msgs, "; ")))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// restConfig finds the cluster: Config.REST, an explicit kubeconfig, the
// in-cluster service account, then the default kubeconfig loading rules.
func (c *Config) restConfig() (*rest.Config, error) {
	if c.REST != nil {
		return rest.CopyConfig(c.REST), nil
	}
	if c.Kubeconfig != "" {
		if _, err := os.Stat(c.Kubeconfig); err != nil {
			return nil, fmt.Errorf("%w: kubeconfig: %w", ErrConfig, err)
		}
	}
	if c.Kubeconfig == "" && c.Context == "" {
		if rc, err := rest.InClusterConfig(); err == nil {
			return rc, nil
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if c.Kubeconfig != "" {
		rules.ExplicitPath = c.Kubeconfig
	}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: c.Context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%w: kubeconfig: %w", ErrConfig, err)
	}
	return rc, nil
}

// ParseToleration parses "key[=value][:Effect]" (operator Equal with a value,
// Exists without one) or "*" (tolerate everything).
func ParseToleration(s string) (corev1.Toleration, error) {
	s = strings.TrimSpace(s)
	if s == "*" {
		return corev1.Toleration{Operator: corev1.TolerationOpExists}, nil
	}
	kv, effect, _ := strings.Cut(s, ":")
	key, value, hasValue := strings.Cut(kv, "=")
	t := corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffect(effect)}
	if hasValue {
		t.Operator, t.Value = corev1.TolerationOpEqual, value
	}
	if msgs := validation.IsQualifiedName(key); key == "" || len(msgs) > 0 {
		return t, fmt.Errorf("%w: toleration %q: bad key %s", ErrConfig, s, strings.Join(msgs, "; "))
	}
	switch t.Effect {
	case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
	default:
		return t, fmt.Errorf("%w: toleration %q: effect %q: want NoSchedule, PreferNoSchedule or NoExecute", ErrConfig, s, effect)
	}
	return t, nil
}

// ParseKeyValues parses "k=v" items (flags such as --k8s-node-selector).
func ParseKeyValues(items []string) (map[string]string, error) {
	if len(items) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(items))
	for _, it := range items {
		k, v, ok := strings.Cut(strings.TrimSpace(it), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: %q: want key=value", ErrConfig, it)
		}
		m[k] = v
	}
	return m, nil
}
