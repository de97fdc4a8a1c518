package kubernetes

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/internal/testenv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// The cluster fixture: a kubeconfig, images on the node and an artifact
// server Pods reach, found or built once per test binary. Without a cluster
// the tests skip (fail when CI=true).
var fixture struct {
	once       sync.Once
	kubeconfig string
	images     map[string]string
	initImage  string
	selfURL    string
	selfHost   string // this host's address Pods reach
	namespace  string // created for this test binary, deleted by TestMain
	cs         *k8s.Clientset
	arts       *testArtifactServer
	err        error
	skip       string
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// setupCluster returns the fixture, skipping the test when no cluster is configured.
func setupCluster(t *testing.T) {
	t.Helper()
	fixture.once.Do(func() {
		kc := os.Getenv("LAMB_TEST_KUBECONFIG")
		if kc == "" {
			if _, err := os.Stat("/tmp/k8sx/etc/admin.kubeconfig"); err == nil {
				kc = "/tmp/k8sx/etc/admin.kubeconfig"
			}
		}
		if kc == "" {
			fixture.skip = "no Kubernetes cluster configured: set LAMB_TEST_KUBECONFIG (or run scripts/ci-kubernetes.sh up)"
			return
		}
		fixture.kubeconfig = kc
		fixture.err = prepareFixture()
	})
	testenv.Need(t, fixture.skip, fixture.skip == "")
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.namespace != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = fixture.cs.CoreV1().Namespaces().Delete(ctx, fixture.namespace, metav1.DeleteOptions{})
		cancel()
	}
	os.Exit(code)
}

func prepareFixture() error {
	var err error
	// A namespace of our own: Reap (ours, or a lamb server's at start-up)
	// deletes every lamb Pod of other servers in its namespace.
	rc, err := clientcmd.BuildConfigFromFlags("", fixture.kubeconfig)
	if err != nil {
		return err
	}
	if fixture.cs, err = k8s.NewForConfig(rc); err != nil {
		return err
	}
	if fixture.namespace, err = testNamespace(fixture.cs); err != nil {
		return err
	}
	if fixture.images, err = testImages(); err != nil {
		return err
	}
	fixture.initImage = os.Getenv("LAMB_TEST_K8S_INIT_IMAGE")
	if fixture.initImage == "" {
		cmd := exec.Command(filepath.Join(repoRoot(), "scripts", "build-lamb-image.sh"))
		cmd.Env = append(os.Environ(), "LAMB_IMAGE_PKG=./engine/backend/kubernetes/cmd/lamb-k8s")
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("build lamb image: %w", err)
		}
		fixture.initImage = strings.TrimSpace(string(out))
	}
	// Images reach the node without a registry.
	if os.Getenv("LAMB_TEST_K8S_SKIP_LOAD") == "" {
		if _, err := os.Stat("/tmp/k8sx/containerd.sock"); err == nil {
			args := []string{"load", fixture.initImage}
			for _, img := range fixture.images {
				args = append(args, img)
			}
			cmd := exec.Command(filepath.Join(repoRoot(), "scripts", "ci-kubernetes.sh"), args...)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("load images into the node: %w\n%s", err, out)
			}
		}
	}
	host := os.Getenv("LAMB_TEST_K8S_SELF_HOST")
	if host == "" {
		host = "10.244.0.1" // the bridge gateway of shared/k8s/cluster.sh
	}
	// On all interfaces: the cluster's bridge (and so its gateway address)
	// may only appear with the first Pod.
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		return fmt.Errorf("listen for Pods: %w", err)
	}
	fixture.arts = &testArtifactServer{backends: map[string]*Backend{}}
	go func() { _ = http.Serve(ln, fixture.arts) }() // lives as long as the test binary
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	fixture.selfURL, fixture.selfHost = "http://"+net.JoinHostPort(host, port), host
	return nil
}

// testNamespace creates a namespace and waits for its default service
// account, without which Pods are refused.
func testNamespace(cs *k8s.Clientset) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The API server refuses any Pod of lamb's in it that does not meet the
	// "restricted" Pod Security Standard (non-root, no capabilities, no
	// privilege escalation, a seccomp profile).
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "lamb-test-" + randomID(), Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("create test namespace: %w", err)
	}
	w, err := cs.CoreV1().ServiceAccounts(ns.Name).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=default"})
	if err != nil {
		return "", err
	}
	defer w.Stop()
	if _, err := cs.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{}); err == nil {
		return ns.Name, nil
	}
	select {
	case <-w.ResultChan():
		return ns.Name, nil
	case <-ctx.Done():
		return "", fmt.Errorf("namespace %s: no default service account: %w", ns.Name, ctx.Err())
	}
}

// testImages reads LAMB_TEST_IMAGES (FAMILY=IMAGE,...) or runs the build script.
func testImages() (map[string]string, error) {
	spec := os.Getenv("LAMB_TEST_IMAGES")
	if spec == "" {
		out, err := exec.Command(filepath.Join(repoRoot(), "scripts", "build-runtime-images.sh")).Output()
		if err != nil {
			return nil, fmt.Errorf("build runtime images: %w", err)
		}
		spec = strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", ",")
	}
	images := map[string]string{}
	for _, kv := range strings.Split(spec, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok {
			images[k] = v
		}
	}
	for _, fam := range []string{"python", "nodejs", "provided"} {
		if images[fam] == "" {
			return nil, fmt.Errorf("no %s image in %q", fam, spec)
		}
	}
	return images, nil
}

// testArtifactServer stands in for lamb's listener: it routes each request
// to the backend whose token it carries.
type testArtifactServer struct {
	mu       sync.Mutex
	backends map[string]*Backend
}

func (s *testArtifactServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.mu.Lock()
	var h http.Handler = ArtifactHandler("", nil) // refuses everything
	for t, b := range s.backends {
		if subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 {
			h = b.ArtifactHandler()
		}
	}
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

func randomID() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newTestBackend returns a backend with its own server ID, closed at the end.
func newTestBackend(t *testing.T) *Backend { return newTestBackendWith(t, nil) }

// newTestBackendWith is newTestBackend with mod applied to the configuration.
func newTestBackendWith(t *testing.T, mod func(*Config)) *Backend {
	t.Helper()
	setupCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	images := map[string]string{}
	for k, v := range fixture.images {
		images[k] = v
	}
	cfg := Config{
		Namespace: fixture.namespace, Kubeconfig: fixture.kubeconfig, SelfURL: fixture.selfURL, InitImage: fixture.initImage,
		ServerID: "test-" + randomID(), RuntimeImages: images, StartTimeout: time.Minute,
		API: agentapi.NewListener(nil), // tunnels wait there until a test serves it
	}
	if mod != nil {
		mod(&cfg)
	}
	b, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fixture.arts.mu.Lock()
	fixture.arts.backends[b.Token()] = b
	fixture.arts.mu.Unlock()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = b.Close(ctx)
		fixture.arts.mu.Lock()
		delete(fixture.arts.backends, b.Token())
		fixture.arts.mu.Unlock()
	})
	return b
}

// ownPods lists the Pods labelled with b's server ID (terminating ones too).
func ownPods(t *testing.T, b *Backend) []string {
	t.Helper()
	list, err := b.pods.List(t.Context(), metav1.ListOptions{LabelSelector: LabelServer + "=" + labelValue(b.cfg.ServerID)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list.Items {
		names = append(names, p.Name)
	}
	return names
}

// waitNoPods polls until b has no Pods left, or fails at the deadline.
func waitNoPods(t *testing.T, b *Backend, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		left := ownPods(t, b)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pods left after %s: %v", within, left)
		}
		time.Sleep(200 * time.Millisecond) // polling the API server with a deadline
	}
}
