package kubernetes

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/agenthost"
	"github.com/lambhq/lamb/engine/backend"
)

func testConfig() Config {
	c := Config{SelfURL: "http://10.244.0.1:9000", InitImage: "lamb:abc", ServerID: "host-123-456",
		RuntimeImages: map[string]string{"python": "lamb-runtime-python:1"},
		NodeSelector:  map[string]string{"pool": "fn"}, Annotations: map[string]string{"team": "x"},
		Tolerations:      []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}},
		ImagePullSecrets: []string{"regcred"}, ServiceAccount: "fn-sa"}
	c.setDefaults()
	return c
}

func TestPodFor(t *testing.T) {
	c := testConfig()
	code, layer := testArtifact([]byte("code")), testArtifact([]byte("layer"))
	spec := &backend.Spec{InstanceID: "lamb-0123abcd", PoolKey: "9f86d081884c7d659a2feaa0c55ad015", ServerID: "ignored",
		FunctionName: "my_fn", FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:my_fn", Version: "$LATEST",
		PackageType: "Zip", Runtime: "python3.12", Handler: "app.handler", MemoryMB: 256, EphemeralStorageMB: 1024,
		Timeout: 3 * time.Second, Env: map[string]string{"GREETING": "hi", "PYTHONPATH": "/mine"}, Code: code,
		Layers: []backend.Artifact{layer}}
	p, err := c.podFor(spec, "tok", "agent-secret")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "lamb-0123abcd" {
		t.Errorf("name %q", p.Name)
	}
	wantLabels := map[string]string{LabelManagedBy: "lamb", LabelServer: "host-123-456", LabelFunction: "my_fn",
		LabelVersion: "LATEST", LabelPool: spec.PoolKey, LabelInstance: "lamb-0123abcd"}
	for k, v := range wantLabels {
		if p.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, p.Labels[k], v)
		}
	}
	if p.Annotations["team"] != "x" || p.Annotations[annotationVersion] != "$LATEST" {
		t.Errorf("annotations %v", p.Annotations)
	}
	ps := p.Spec
	if ps.RestartPolicy != corev1.RestartPolicyNever || *ps.TerminationGracePeriodSeconds != 2 {
		t.Errorf("restart %s grace %d", ps.RestartPolicy, *ps.TerminationGracePeriodSeconds)
	}
	if *ps.AutomountServiceAccountToken || ps.ServiceAccountName != "fn-sa" || ps.NodeSelector["pool"] != "fn" ||
		len(ps.Tolerations) != 1 || ps.ImagePullSecrets[0].Name != "regcred" {
		t.Errorf("pod placement/identity: %+v", ps)
	}
	ic := ps.InitContainers[0]
	if ic.Image != "lamb:abc" || !slices.Equal(ic.Command, []string{"/lamb", "k8s-init"}) {
		t.Errorf("init container %s %v", ic.Image, ic.Command)
	}
	env := map[string]string{}
	for _, e := range ic.Env {
		env[e.Name] = e.Value
	}
	if env[envInitURL] != c.SelfURL || env[envInitToken] != "tok" || env[envInitCode] != code.SHA256 || env[envInitLayers] != layer.SHA256 ||
		env[agentapi.EnvSecret] != "" {
		t.Errorf("init env %v", env)
	}
	mc := ps.Containers[0]
	if mc.Image != "lamb-runtime-python:1" || mc.Command[0] != "/lamb-agent/lamb" || mc.Args[0] != "agent" ||
		!slices.Equal(mc.Args[len(mc.Args)-2:], []string{"/lambda-entrypoint.sh", "app.handler"}) {
		t.Errorf("main container %s %v %v", mc.Image, mc.Command, mc.Args)
	}
	if got := mc.Resources.Limits.Memory().String(); got != "256Mi" || mc.Resources.Requests.Memory().String() != "256Mi" {
		t.Errorf("memory limit %s", got)
	}
	menv := map[string]string{}
	for _, e := range mc.Env {
		menv[e.Name] = e.Value
	}
	if menv["GREETING"] != "hi" || menv["AWS_ENDPOINT_URL"] != c.SelfURL || menv["LAMBDA_TASK_ROOT"] != "/var/task" ||
		!strings.HasPrefix(menv["PYTHONPATH"], "/mine:") || menv[envInitToken] != "" || menv[agentapi.EnvSecret] != "agent-secret" {
		t.Errorf("main env %v", menv)
	}
	// The agent's lease: it ends the Pod once lamb no longer holds it.
	if got := menv[agentapi.EnvLease]; got != "5s" {
		t.Errorf("%s = %q, want the default lease 5s", agentapi.EnvLease, got)
	}
	vols := map[string]corev1.Volume{}
	for _, v := range ps.Volumes {
		if v.EmptyDir == nil {
			t.Errorf("volume %s is not an emptyDir", v.Name)
		}
		vols[v.Name] = v
	}
	if tmp := vols["tmp"]; tmp.EmptyDir == nil || tmp.EmptyDir.SizeLimit.String() != "1Gi" {
		t.Errorf("tmp volume %+v", tmp)
	}
	mounts := map[string]string{}
	for _, m := range mc.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	for _, path := range []string{"/var/task", "/opt", "/tmp", "/lamb-agent"} {
		if mounts[path] == "" {
			t.Errorf("main container has no mount at %s", path)
		}
	}
}

func TestPodForProvidedAndUnsupported(t *testing.T) {
	c := testConfig()
	c.RuntimeImages["provided"] = "lamb-runtime-provided:1"
	p, err := c.podFor(&backend.Spec{InstanceID: "x", Runtime: "provided.al2023", PackageType: "Zip", Version: "1"}, "t", "s")
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(p.Spec.Containers[0].Args, " "); !strings.Contains(args, "--try /var/task/bootstrap --try /opt/bootstrap") {
		t.Errorf("provided args %q", args)
	}
	for _, spec := range []*backend.Spec{
		{InstanceID: "x", PackageType: "Image", Image: "img"},
		{InstanceID: "x", PackageType: "Zip", Runtime: "cobol1"},
	} {
		if _, err := c.podFor(spec, "t", "s"); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%+v: err %v, want ErrUnsupported", spec, err)
		}
	}
}

func TestNamesAreValid(t *testing.T) {
	for _, s := range []string{"lamb-0123", "bt-123-4", "A_B.C", "$LATEST", strings.Repeat("x", 200), "host.example.com-12-1732680000000000000", "-", ""} {
		if v := labelValue(s); len(validation.IsValidLabelValue(v)) > 0 {
			t.Errorf("labelValue(%q) = %q: invalid", s, v)
		}
		if n := podName(s); len(validation.IsDNS1123Label(n)) > 0 {
			t.Errorf("podName(%q) = %q: invalid", s, n)
		}
	}
	if labelValue(strings.Repeat("a", 100)+"1") == labelValue(strings.Repeat("a", 100)+"2") {
		t.Error("long values collide")
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		bad  string // a word of the message; "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no self url", func(c *Config) { c.SelfURL = "" }, "LAMB_K8S_SELF_URL"},
		{"loopback self url", func(c *Config) { c.SelfURL = "http://127.0.0.1:9000" }, "loopback"},
		{"self url without scheme", func(c *Config) { c.SelfURL = "10.0.0.1:9000" }, "http(s)"},
		{"no init image", func(c *Config) { c.InitImage = "" }, "build-lamb-image.sh"},
		{"bad namespace", func(c *Config) { c.Namespace = "Not_Valid" }, "namespace"},
		{"bad pull policy", func(c *Config) { c.PullPolicy = "Sometimes" }, "pull policy"},
		{"bad node selector", func(c *Config) { c.NodeSelector = map[string]string{"a b": "c"} }, "node selector"},
		{"bad service account", func(c *Config) { c.ServiceAccount = "UPPER" }, "UPPER"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig()
			tc.mod(&c)
			err := c.validate()
			if tc.bad == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.bad) {
				t.Fatalf("err %v, want ErrConfig mentioning %q", err, tc.bad)
			}
		})
	}
}

func TestParseToleration(t *testing.T) {
	cases := []struct {
		in   string
		want corev1.Toleration
		bad  bool
	}{
		{"*", corev1.Toleration{Operator: corev1.TolerationOpExists}, false},
		{"gpu", corev1.Toleration{Key: "gpu", Operator: corev1.TolerationOpExists}, false},
		{"gpu:NoSchedule", corev1.Toleration{Key: "gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}, false},
		{"dedicated=lamb:NoExecute", corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "lamb", Effect: corev1.TaintEffectNoExecute}, false},
		{"a=b", corev1.Toleration{Key: "a", Operator: corev1.TolerationOpEqual, Value: "b"}, false},
		{"", corev1.Toleration{}, true},
		{"gpu:Never", corev1.Toleration{}, true},
		{"bad key!:NoSchedule", corev1.Toleration{}, true},
	}
	for _, c := range cases {
		got, err := ParseToleration(c.in)
		if c.bad {
			if !errors.Is(err, ErrConfig) {
				t.Errorf("%q: err %v, want ErrConfig", c.in, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestNewRefusesBadKubeconfig(t *testing.T) {
	cases := []struct {
		name string
		kc   string
		want error
	}{
		{"missing file", "/nonexistent/kubeconfig", ErrConfig},
		{"garbage", "garbage", ErrConfig},
		{"unreachable server", "unreachable", ErrUnreachable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Kubeconfig = c.kc
			switch c.kc {
			case "garbage":
				cfg.Kubeconfig = writeFile(t, "this: [is not a kubeconfig")
			case "unreachable":
				// A port nothing listens on: refused at once.
				cfg.Kubeconfig = writeFile(t, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`)
			}
			_, err := New(t.Context(), cfg)
			if !errors.Is(err, c.want) {
				t.Fatalf("New: %v, want %v", err, c.want)
			}
		})
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := t.TempDir() + "/kubeconfig"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPodEndpoint: with API, functions reach lamb through the agent's tunnel
// on the Pod's loopback; without, at SelfURL.
func TestPodEndpoint(t *testing.T) {
	tests := []struct {
		name     string
		api      *agentapi.Listener
		wantURL  string
		wantFlag bool
	}{
		{"tunnel", agentapi.NewListener(nil), agentapi.EndpointURL, true},
		{"self URL", nil, "http://10.244.0.1:9000", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig()
			c.API = tt.api
			spec := &backend.Spec{InstanceID: "i1", PackageType: "Zip", Runtime: "python3.12", Handler: "app.handler"}
			p, err := c.podFor(spec, "tok", "agent-secret")
			if err != nil {
				t.Fatal(err)
			}
			mc := p.Spec.Containers[0]
			env := map[string]string{}
			for _, e := range mc.Env {
				env[e.Name] = e.Value
			}
			if env["AWS_ENDPOINT_URL"] != tt.wantURL {
				t.Errorf("AWS_ENDPOINT_URL = %q, want %q", env["AWS_ENDPOINT_URL"], tt.wantURL)
			}
			i := slices.Index(mc.Args, "--endpoint")
			if got := i >= 0 && i+1 < len(mc.Args) && mc.Args[i+1] == agentapi.EndpointAddr; got != tt.wantFlag {
				t.Errorf("agent args %q: --endpoint %v, want %v", mc.Args, got, tt.wantFlag)
			}
			if dd := slices.Index(mc.Args, "--"); tt.wantFlag && dd >= 0 && dd < i {
				t.Errorf("--endpoint after --: %q", mc.Args)
			}
		})
	}
}

// TestPodSecurity: both containers run as the sandbox user, without
// capabilities, privilege escalation or a writable root, under the default
// seccomp profile (the "restricted" Pod Security Standard); only the main
// container gets the agent's secret, and a function's own variable of that
// name does not replace it.
func TestPodSecurity(t *testing.T) {
	c := testConfig()
	c.API = agentapi.NewListener(nil)
	spec := &backend.Spec{InstanceID: "i1", PackageType: "Zip", Runtime: "python3.12", Handler: "app.handler",
		Env: map[string]string{agentapi.EnvSecret: "the function's own"}}
	p, err := c.podFor(spec, "tok", "agent-secret")
	if err != nil {
		t.Fatal(err)
	}
	psc := p.Spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != agenthost.UID ||
		psc.RunAsGroup == nil || *psc.RunAsGroup != agenthost.GID ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v", psc)
	}
	tests := []struct {
		name       string
		c          corev1.Container
		wantSecret []string // the values of agentapi.EnvSecret
	}{
		{"init", p.Spec.InitContainers[0], nil},
		{"main", p.Spec.Containers[0], []string{"agent-secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := tt.c.SecurityContext
			if sc == nil {
				t.Fatal("no securityContext")
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("allowPrivilegeEscalation %v", sc.AllowPrivilegeEscalation)
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("readOnlyRootFilesystem %v", sc.ReadOnlyRootFilesystem)
			}
			if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 {
				t.Errorf("capabilities %+v", sc.Capabilities)
			}
			if sc.RunAsUser != nil && *sc.RunAsUser == 0 || sc.Privileged != nil && *sc.Privileged {
				t.Errorf("container overrides the pod's user: %+v", sc)
			}
			var got []string
			for _, e := range tt.c.Env {
				if e.Name == agentapi.EnvSecret {
					got = append(got, e.Value)
				}
			}
			if !slices.Equal(got, tt.wantSecret) {
				t.Errorf("%s = %q, want %q", agentapi.EnvSecret, got, tt.wantSecret)
			}
		})
	}
}
