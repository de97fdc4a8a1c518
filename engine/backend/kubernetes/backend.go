package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8s "k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/lambhq/lamb/engine/agenthost"
	"github.com/lambhq/lamb/engine/backend"
)

// Backend runs instances as Pods. It is safe for concurrent use.
type Backend struct {
	cfg   Config
	log   *slog.Logger
	cs    k8s.Interface
	pods  typedcorev1.PodInterface
	host  string // the API server, for messages
	token string
	arts  artifacts

	live agenthost.Live[*instance]
}

var _ backend.Backend = (*Backend)(nil)

// ErrUnreachable wraps the error New reports when the cluster does not answer
// or refuses lamb's credentials.
var ErrUnreachable = errors.New("kubernetes backend: cluster unreachable")

// New checks cfg, connects to the cluster and proves it can list Pods in the
// namespace; any failure is an error (wrapping ErrConfig or ErrUnreachable),
// never a fallback. It starts no goroutines. The artifact token is new for
// every Backend.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rc, err := cfg.restConfig()
	if err != nil {
		return nil, err
	}
	// Scale-out creates and watches many Pods at once; client-go's default of
	// 5 requests per second would queue cold starts.
	rc.QPS, rc.Burst = 50, 100
	cs, err := k8s.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	token, err := newToken()
	if err != nil {
		return nil, fmt.Errorf("kubernetes backend: token: %w", err)
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, cs: cs, pods: cs.CoreV1().Pods(cfg.Namespace),
		host: rc.Host, token: token}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := b.pods.List(cctx, metav1.ListOptions{Limit: 1, LabelSelector: LabelManagedBy + "=" + ManagedByValue}); err != nil {
		return nil, fmt.Errorf("%w: listing Pods in namespace %q at %s: %w", ErrUnreachable, cfg.Namespace, rc.Host, err)
	}
	return b, nil
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return "kubernetes" }

// Capabilities implements backend.Backend. Image functions are not supported
// yet: their ENTRYPOINT/CMD would have to be read from the registry.
func (b *Backend) Capabilities() backend.Capabilities {
	// HostFolders false: a Pod runs on a node, not on lamb's host, so code
	// from a host folder (hot reload) is refused at CreateFunction.
	return backend.Capabilities{MemoryLimit: true, Images: false, Isolated: true, HostFolders: false}
}

// Prepull implements backend.Backend: the kubelet pulls images on the node
// that runs the Pod, so there is nothing to do here.
func (b *Backend) Prepull(ctx context.Context, image string, progress func(backend.Progress)) error {
	return nil
}

// Token is the artifact endpoint's bearer token (random per Backend).
func (b *Backend) Token() string { return b.token }

// ArtifactHandler serves the code and layers of this backend's live
// instances to their init containers; mount it at ArtifactPath on the
// listener SelfURL reaches. See the package-level ArtifactHandler.
func (b *Backend) ArtifactHandler() http.Handler {
	return ArtifactHandler(b.token, b.arts.lookup)
}

// Reap implements backend.Backend: called once at start-up, it deletes the
// Pods labelled with this backend's server ID, left by an earlier run of the
// same server that died without cleaning up. Pods of other servers, which may
// be alive, are not touched.
func (b *Backend) Reap(ctx context.Context) error {
	return b.deleteLabelled(ctx, LabelManagedBy+"="+ManagedByValue+","+LabelServer+"="+labelValue(b.cfg.ServerID))
}

// Close stops every instance this backend launched, deletes any Pod of its
// own that is left, makes later launches fail, and waits (while ctx lasts,
// at most the grace period and 10 s) until its Pods are gone: a deleted Pod
// stays while the kubelet stops its containers, and a lamb that has exited
// should have left nothing running.
func (b *Backend) Close(ctx context.Context) error {
	sel := LabelManagedBy + "=" + ManagedByValue + "," + LabelServer + "=" + labelValue(b.cfg.ServerID)
	err := b.live.StopAll(ctx)
	if err := errors.Join(err, b.deleteLabelled(ctx, sel)); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, b.cfg.TerminationGrace+10*time.Second)
	defer cancel()
	return b.waitGone(wctx, sel)
}

// waitGone polls until no Pod matches selector.
func (b *Backend) waitGone(ctx context.Context, selector string) error {
	for {
		list, err := b.pods.List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return fmt.Errorf("kubernetes backend: list pods: %w", err)
		}
		if len(list.Items) == 0 {
			return nil
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("kubernetes backend: %d pods still terminating: %w", len(list.Items), ctx.Err())
		}
	}
}

func (b *Backend) deleteLabelled(ctx context.Context, selector string) error {
	list, err := b.pods.List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return fmt.Errorf("kubernetes backend: list pods: %w", err)
	}
	var errs []error
	for _, p := range list.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		b.log.Info("deleting pod", "pod", p.Name, "server", p.Annotations[annotationServer])
		if err := b.deletePod(ctx, p.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (b *Backend) deletePod(ctx context.Context, name string) error {
	grace := int64(b.cfg.TerminationGrace.Seconds())
	if grace < 1 {
		grace = 1
	}
	err := b.pods.Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("kubernetes backend: delete pod %s: %w", name, err)
	}
	return nil
}
