package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// The Kubernetes suite needs a cluster (LAMB_TEST_KUBECONFIG, or the one
// ../shared/k8s/cluster.sh runs), the stand-in runtime images and lamb's own
// image on its node (scripts/ci-kubernetes.sh images), and an address of this
// host Pods reach (LAMB_TEST_K8S_SELF_HOST, default the cluster bridge's
// gateway 10.244.0.1).
type kubeEnv struct {
	namespace  string // created for the test, deleted after it
	kubeconfig string
	initImage  string
	images     []string // --runtime-image values
	selfHost   string
	cs         *k8s.Clientset
}

// needKubeWiring skips (fails under CI) when the lamb binary was built
// without the kubernetes backend wired into cmd/lamb.
func needKubeWiring(t *testing.T) {
	t.Helper()
	err := exec.Command(lambBin, "k8s-init", "--check").Run()
	need(t, "a lamb binary with the kubernetes backend wired in (cmd/lamb: newKubeInitCmd, --backend kubernetes)", err == nil)
}

func needKube(t *testing.T) *kubeEnv {
	t.Helper()
	needKubeWiring(t)
	kc := os.Getenv("LAMB_TEST_KUBECONFIG")
	if kc == "" {
		if _, err := os.Stat("/tmp/k8sx/etc/admin.kubeconfig"); err == nil {
			kc = "/tmp/k8sx/etc/admin.kubeconfig"
		}
	}
	need(t, "a Kubernetes cluster (set LAMB_TEST_KUBECONFIG; scripts/ci-kubernetes.sh up starts one)", kc != "")
	rc, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := k8s.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	env := &kubeEnv{kubeconfig: kc, cs: cs, selfHost: os.Getenv("LAMB_TEST_K8S_SELF_HOST")}
	// A namespace of its own: lamb deletes other servers' Pods in its namespace at start-up.
	env.namespace = "lamb-e2e-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: env.namespace}}
	if _, err := cs.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), env.namespace, metav1.DeleteOptions{})
	})
	deadline := time.Now().Add(30 * time.Second)
	for { // Pods are refused until the namespace's default service account exists
		if _, err := cs.CoreV1().ServiceAccounts(env.namespace).Get(t.Context(), "default", metav1.GetOptions{}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s has no default service account after 30s", env.namespace)
		}
		time.Sleep(100 * time.Millisecond) // polling the API server with a deadline
	}
	if env.selfHost == "" {
		env.selfHost = "10.244.0.1"
	}
	_, file, _, _ := runtime.Caller(0)
	scripts := filepath.Join(filepath.Dir(file), "..", "..", "scripts")
	env.initImage = os.Getenv("LAMB_TEST_K8S_INIT_IMAGE")
	if env.initImage == "" {
		out, err := exec.Command(filepath.Join(scripts, "build-lamb-image.sh")).Output()
		if err != nil {
			t.Fatalf("build-lamb-image.sh: %v", err)
		}
		env.initImage = strings.TrimSpace(string(out))
	}
	spec := os.Getenv("LAMB_TEST_IMAGES")
	if spec == "" {
		out, err := exec.Command(filepath.Join(scripts, "build-runtime-images.sh")).Output()
		if err != nil {
			t.Fatalf("build-runtime-images.sh: %v", err)
		}
		spec = strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", ",")
	}
	env.images = strings.Split(spec, ",")
	if _, err := os.Stat("/tmp/k8sx/containerd.sock"); err == nil && os.Getenv("LAMB_TEST_K8S_SKIP_LOAD") == "" {
		args := []string{"load", env.initImage}
		for _, kv := range env.images {
			_, img, _ := strings.Cut(kv, "=")
			args = append(args, img)
		}
		if out, err := exec.Command(filepath.Join(scripts, "ci-kubernetes.sh"), args...).CombinedOutput(); err != nil {
			t.Fatalf("loading images into the node: %v\n%s", err, out)
		}
	}
	return env
}

// lambPods lists lamb's Pods in the test's namespace.
func (k *kubeEnv) lambPods(t *testing.T) []corev1.Pod {
	t.Helper()
	list, err := k.cs.CoreV1().Pods(k.namespace).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=lamb"})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func (k *kubeEnv) start(t *testing.T) *server {
	t.Helper()
	return k.startAt(t, strings.TrimPrefix(freeAddr(t), "127.0.0.1:"), "")
}

// startAt starts lamb on port (all interfaces), on dataDir ("" for
// --ephemeral: the server's ID then comes from its address).
func (k *kubeEnv) startAt(t *testing.T, port, dataDir string) *server {
	t.Helper()
	args := []string{"--backend", "kubernetes", "--k8s-kubeconfig", k.kubeconfig, "--k8s-namespace", k.namespace,
		"--k8s-self-url", "http://" + net.JoinHostPort(k.selfHost, port), "--k8s-init-image", k.initImage}
	for _, kv := range k.images {
		args = append(args, "--runtime-image", kv)
	}
	// On all interfaces: the cluster's bridge may only appear with the first
	// Pod. Open (--insecure-no-auth): the test cluster is this machine's own,
	// and the tests' clients sign with made-up secrets.
	return startLambAt(t, "0.0.0.0:"+port, dataDir, append(args, "--insecure-no-auth")...)
}

func boto3Pods(t *testing.T, s *server, out any, args ...string) {
	t.Helper()
	py := pythonWithBoto3(t)
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", "k8s", "boto3_pods.py")}, args...)...)
	cmd.Env = append(os.Environ(), "LAMB_ENDPOINT="+s.URL, "AWS_EC2_METADATA_DISABLED=true")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3_pods.py %v: %v\n%s", args, err, stderr.String())
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("boto3_pods.py %v: %v: %s", args, err, b)
	}
}

type podCall struct {
	Pod      string   `json:"pod"`
	Files    []string `json:"files"`
	Endpoint string   `json:"endpoint"`
	Names    []string `json:"names"`
	MS       float64  `json:"ms"`
}

const podHandler = `
import json, os, socket, time, urllib.request
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    out = {"pod": socket.gethostname(), "files": sorted(os.listdir("/var/task"))}
    if event.get("list"):
        url = os.environ["AWS_ENDPOINT_URL"] + "/2015-03-31/functions/"
        with urllib.request.urlopen(url, timeout=10) as r:
            out["names"] = [f["FunctionName"] for f in json.load(r)["Functions"]]
        out["endpoint"] = os.environ["AWS_ENDPOINT_URL"]
    return out
`

func TestKubernetesBoto3(t *testing.T) {
	k := needKube(t)
	s := k.start(t)
	zip := zipOf(t, map[string]string{"app.py": podHandler})
	zipPath := filepath.Join(t.TempDir(), "fn.zip")
	if err := os.WriteFile(zipPath, zip, 0o644); err != nil {
		t.Fatal(err)
	}
	boto3Pods(t, s, &struct{}{}, "create", "podfn", zipPath)

	// One call: it runs in a Pod whose init container fetched the code.
	var first podCall
	boto3Pods(t, s, &first, "invoke", "podfn")
	if len(first.Files) != 1 || first.Files[0] != "app.py" {
		t.Fatalf("/var/task in the pod holds %v, want [app.py]", first.Files)
	}
	// The first Pod lists functions through AWS_ENDPOINT_URL: its agent's
	// tunnel on the Pod's loopback, not an address of lamb's.
	if first.Endpoint != "http://127.0.0.1:3001" || !slices.Contains(first.Names, "podfn") {
		t.Fatalf("from the pod, AWS_ENDPOINT_URL %q lists %v", first.Endpoint, first.Names)
	}
	pod, err := k.cs.CoreV1().Pods(k.namespace).Get(t.Context(), first.Pod, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the call ran in %q, which is no pod: %v", first.Pod, err)
	}
	if pod.Labels["app.kubernetes.io/managed-by"] != "lamb" || pod.Labels["lamb.dev/function"] != "podfn" {
		t.Fatalf("pod labels %v", pod.Labels)
	}
	if st := pod.Status.InitContainerStatuses; len(st) != 1 || st[0].State.Terminated == nil || st[0].State.Terminated.ExitCode != 0 {
		t.Fatalf("init container status %+v", st)
	}
	t.Logf("cold call (create pod → answer, through boto3): %.0f ms", first.MS)

	// The artifact endpoint refuses callers without the token.
	sum := sha256.Sum256(zip)
	u := s.URL + "/_lamb/internal/k8s/artifacts/" + hex.EncodeToString(sum[:])
	for _, c := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer guessed", http.StatusForbidden}} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("artifact endpoint with %q: %d, want %d", c.auth, resp.StatusCode, c.want)
		}
	}

	// Warm calls reuse the Pod.
	var warm struct {
		P50  float64  `json:"p50_ms"`
		P90  float64  `json:"p90_ms"`
		Pods []string `json:"pods"`
	}
	boto3Pods(t, s, &warm, "warm", "podfn", "20")
	if len(warm.Pods) != 1 || warm.Pods[0] != first.Pod {
		t.Fatalf("sequential warm calls ran in %v, want only %s", warm.Pods, first.Pod)
	}
	t.Logf("warm call through boto3: p50 %.1f ms, p90 %.1f ms", warm.P50, warm.P90)

	// 3 concurrent calls → 3 Pods, never two calls in one.
	var calls []podCall
	boto3Pods(t, s, &calls, "concurrent", "podfn", "3", "3")
	seen := map[string]bool{}
	for _, c := range calls {
		if seen[c.Pod] {
			t.Fatalf("two concurrent calls ran in pod %s: %+v", c.Pod, calls)
		}
		seen[c.Pod] = true
	}
	if n := len(k.lambPods(t)); n != 3 {
		t.Fatalf("%d lamb pods after 3 concurrent calls, want 3", n)
	}

	// Pods deleted behind lamb's back: the next call succeeds.
	for _, p := range k.lambPods(t) {
		if err := k.cs.CoreV1().Pods(k.namespace).Delete(t.Context(), p.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var after podCall
	boto3Pods(t, s, &after, "invoke", "podfn")
	if seen[after.Pod] {
		t.Fatalf("call after deletion ran in deleted pod %s", after.Pod)
	}

	// SIGTERM of lamb serve leaves no Pod.
	s.stop(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		left := k.lambPods(t)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d lamb pods left 30s after SIGTERM", len(left))
		}
		time.Sleep(250 * time.Millisecond) // polling the API server with a deadline
	}
}

// A lamb started with a wrong kubeconfig exits with a clear message, and
// never falls back to another backend. No cluster is needed.
func TestKubernetesBadConfigExits(t *testing.T) {
	needKubeWiring(t)
	dir := t.TempDir()
	unreachable := filepath.Join(dir, "unreachable")
	if err := os.WriteFile(unreachable, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing kubeconfig", []string{"--k8s-kubeconfig", filepath.Join(dir, "nope"), "--k8s-self-url", "http://10.0.0.1:1", "--k8s-init-image", "lamb:x"}, "kubeconfig"},
		{"unreachable cluster", []string{"--k8s-kubeconfig", unreachable, "--k8s-self-url", "http://10.0.0.1:1", "--k8s-init-image", "lamb:x"}, "unreachable"},
		{"no self url", []string{"--k8s-kubeconfig", unreachable, "--k8s-init-image", "lamb:x"}, "LAMB_K8S_SELF_URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append([]string{"serve", "--ephemeral", "--addr", freeAddr(t), "--backend", "kubernetes"}, c.args...)
			cmd := exec.CommandContext(ctx, lambBin, args...)
			cmd.Env = append(os.Environ(), "LAMB_K8S_SELF_URL=")
			out, err := cmd.CombinedOutput()
			if err == nil || ctx.Err() != nil {
				t.Fatalf("lamb serve did not exit with an error (err %v):\n%s", err, out)
			}
			if !strings.Contains(string(out), c.want) || strings.Contains(string(out), "lamb is serving") {
				t.Fatalf("output does not say %q:\n%s", c.want, out)
			}
		})
	}
}
