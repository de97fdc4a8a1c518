package kubernetes

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/agenthost"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/runtimes"
)

// Labels on every Pod lamb creates. Label values are restricted (63
// characters of [A-Za-z0-9._-]); the exact originals are in annotations.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by" // "lamb"
	ManagedByValue = "lamb"
	LabelServer    = "lamb.dev/server"   // Config.ServerID
	LabelFunction  = "lamb.dev/function" // function name
	LabelVersion   = "lamb.dev/version"  // "LATEST" for $LATEST
	LabelPool      = "lamb.dev/deploy-hash"
	LabelInstance  = "lamb.dev/instance"

	annotationFunctionARN = "lamb.dev/function-arn"
	annotationVersion     = "lamb.dev/version"
	annotationServer      = "lamb.dev/server"
)

// Paths and names inside every Pod.
const (
	agentDir      = "/lamb-agent" // the emptyDir the init container installs the agent into
	taskRoot      = agenthost.TaskRoot
	optDir        = agenthost.OptDir
	agentPort     = agentapi.DefaultPort
	mainContainer = "function"
	initContainer = "lamb-init"
)

// ErrUnsupported is returned by Launch for what the backend cannot run.
var ErrUnsupported = errors.New("kubernetes backend: unsupported")

var badLabelChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// labelValue turns s into a valid label value: unchanged when it is one, else
// cleaned, and hashed when too long.
func labelValue(s string) string {
	if len(validation.IsValidLabelValue(s)) == 0 {
		return s
	}
	v := badLabelChars.ReplaceAllString(s, "-")
	if len(v) > 50 {
		sum := sha256.Sum256([]byte(s))
		v = v[:40] + "-" + hex.EncodeToString(sum[:])[:8]
	}
	v = strings.Trim(v, "-_.")
	if v == "" {
		v = "x"
	}
	return v
}

// podName is "lamb-" + the instance ID, made a valid DNS label.
func podName(instanceID string) string {
	n := strings.ToLower(badLabelChars.ReplaceAllString(instanceID, "-"))
	n = strings.ReplaceAll(strings.ReplaceAll(n, "_", "-"), ".", "-")
	if !strings.HasPrefix(n, "lamb-") {
		n = "lamb-" + n
	}
	if len(n) > 63 {
		sum := sha256.Sum256([]byte(instanceID))
		n = n[:50] + "-" + hex.EncodeToString(sum[:])[:8]
	}
	return strings.TrimRight(n, "-")
}

// plan picks the runtime image and the agent's arguments for spec.
func (c *Config) plan(spec *backend.Spec) (img string, agentArgs []string, err error) {
	if spec.PackageType == "Image" {
		// The image's own ENTRYPOINT/CMD is not known without its registry.
		return "", nil, fmt.Errorf("%w: PackageType Image", ErrUnsupported)
	}
	rt, ok := runtimes.Lookup(spec.Runtime)
	if !ok {
		return "", nil, fmt.Errorf("%w: runtime %q", ErrUnsupported, spec.Runtime)
	}
	img = c.RuntimeImages[rt.ID]
	if img == "" {
		img = c.RuntimeImages[rt.Family]
	}
	if img == "" {
		img = spec.Image
	}
	if img == "" {
		img = rt.Image
	}
	if img == "" {
		return "", nil, fmt.Errorf("%w: no image for runtime %q", ErrUnsupported, spec.Runtime)
	}
	args := []string{"agent", "--listen", ":" + strconv.Itoa(agentPort), "--dir", taskRoot}
	if c.API != nil {
		args = append(args, "--endpoint", agentapi.EndpointAddr)
	}
	if rt.Family == runtimes.FamilyProvided {
		// AWS looks for /var/task/bootstrap, then /opt/bootstrap (layers).
		return img, append(args, "--try", taskRoot+"/bootstrap", "--try", optDir+"/bootstrap"), nil
	}
	return img, append(args, "--", "/lambda-entrypoint.sh", spec.Handler), nil
}

// environ is the engine's environment plus what only the sandbox knows, and
// the agent's secret (which the agent keeps from the function). The secret
// is a plain variable, not a Secret object: see podFor.
func (c *Config) environ(spec *backend.Spec, secret string) []corev1.EnvVar {
	endpoint := c.SelfURL
	if c.API != nil {
		endpoint = agentapi.EndpointURL
	}
	env := agenthost.Environ(spec, endpoint)
	env[agentapi.EnvSecret] = secret
	env[agentapi.EnvLease] = c.AgentLease.String()
	out := make([]corev1.EnvVar, 0, len(env))
	for k, v := range env {
		out = append(out, corev1.EnvVar{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// podFor builds the Pod of one instance: token is the artifact endpoint's
// (for the init container), secret the agent's.
//
// Both are plain environment variables of their container. A Secret object
// per Pod would take lamb's Role create and delete on secrets, an API call
// more per cold start and a clean-up of its own after a crash, to hide them
// from those who can read Pods in lamb's namespace, who can read the
// artifact token anyway; what the agent's secret stops is anything that can
// only reach the Pod IP (other Pods, the function).
//
// Both containers run as agenthost.UID:GID, not root, without capabilities,
// privilege escalation or a writable root, under the runtime's default
// seccomp profile: the Pod meets the "restricted" Pod Security Standard.
func (c *Config) podFor(spec *backend.Spec, token, secret string) (*corev1.Pod, error) {
	img, args, err := c.plan(spec)
	if err != nil {
		return nil, err
	}
	mem := spec.MemoryMB
	if mem <= 0 {
		mem = 128
	}
	eph := spec.EphemeralStorageMB
	if eph <= 0 {
		eph = 512
	}
	memQ := resource.MustParse(strconv.Itoa(mem) + "Mi")
	ephQ := resource.MustParse(strconv.Itoa(eph) + "Mi")
	var layers []string
	for _, l := range spec.Layers {
		layers = append(layers, l.SHA256)
	}
	version := spec.Version
	if version == "$LATEST" {
		version = "LATEST"
	}
	annotations := map[string]string{
		annotationFunctionARN: spec.FunctionARN, annotationVersion: spec.Version, annotationServer: c.ServerID,
	}
	for k, v := range c.Annotations {
		annotations[k] = v
	}
	grace := int64(c.TerminationGrace.Seconds())
	if grace < 1 {
		grace = 1
	}
	no, yes := false, true
	uid, gid := int64(agenthost.UID), int64(agenthost.GID)
	// The same for both containers: the init container only writes the
	// emptyDirs (world-writable), the agent and the function only read them.
	hardened := func() *corev1.SecurityContext {
		return &corev1.SecurityContext{ReadOnlyRootFilesystem: &yes, AllowPrivilegeEscalation: &no,
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
	}
	var pullSecrets []corev1.LocalObjectReference
	for _, s := range c.ImagePullSecrets {
		pullSecrets = append(pullSecrets, corev1.LocalObjectReference{Name: s})
	}
	mounts := func(agentRO bool) []corev1.VolumeMount {
		return []corev1.VolumeMount{
			{Name: "lamb", MountPath: agentDir, ReadOnly: agentRO},
			{Name: "task", MountPath: taskRoot, ReadOnly: agentRO},
			{Name: "opt", MountPath: optDir, ReadOnly: agentRO},
			{Name: "tmp", MountPath: "/tmp"},
		}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: podName(spec.InstanceID),
			Labels: map[string]string{
				LabelManagedBy: ManagedByValue, LabelServer: labelValue(c.ServerID),
				LabelFunction: labelValue(spec.FunctionName), LabelVersion: labelValue(version),
				LabelPool: labelValue(spec.PoolKey), LabelInstance: labelValue(spec.InstanceID),
			},
			Annotations: annotations,
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: &grace,
			// Functions get no Kubernetes credentials, and no service environment.
			AutomountServiceAccountToken: &no,
			EnableServiceLinks:           &no,
			ServiceAccountName:           c.ServiceAccount,
			NodeSelector:                 c.NodeSelector,
			Tolerations:                  c.Tolerations,
			ImagePullSecrets:             pullSecrets,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &gid,
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			InitContainers: []corev1.Container{{
				Name: initContainer, Image: c.InitImage, ImagePullPolicy: c.PullPolicy,
				Command: []string{"/lamb", "k8s-init"},
				Env: []corev1.EnvVar{
					{Name: envInitURL, Value: c.SelfURL}, {Name: envInitToken, Value: token},
					{Name: envInitCode, Value: spec.Code.SHA256}, {Name: envInitLayers, Value: strings.Join(layers, ",")},
				},
				VolumeMounts:             mounts(false),
				TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
				Resources: corev1.ResourceRequirements{
					Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
				},
				SecurityContext: hardened(),
			}},
			Containers: []corev1.Container{{
				Name: mainContainer, Image: img, ImagePullPolicy: c.PullPolicy,
				Command: []string{agentDir + "/lamb"}, Args: args, WorkingDir: taskRoot,
				Env:                      c.environ(spec, secret),
				Ports:                    []corev1.ContainerPort{{Name: "agent", ContainerPort: agentPort, Protocol: corev1.ProtocolTCP}},
				VolumeMounts:             mounts(true),
				TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceMemory: memQ},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: memQ},
				},
				SecurityContext: hardened(),
			}},
			Volumes: []corev1.Volume{
				{Name: "lamb", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "task", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "opt", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &ephQ}}},
			},
		},
	}
	return pod, nil
}
