package agenthost

import (
	"strings"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/runtimes"
)

// Paths inside every container sandbox, as in AWS's.
const (
	TaskRoot   = "/var/task"    // the function's code
	OptDir     = "/opt"         // the merged layers
	RuntimeDir = "/var/runtime" // the image's runtime
)

// The user functions run as in a container sandbox, and the agent with them:
// not root, as on AWS, whose sandboxes run functions as uid 993
// (sbx_user1051), gid 990. The images need no entry for it: the code, the
// layers and the agent are readable by everyone, /tmp by its mode.
const (
	UID = 993
	GID = 990
)

// Environ returns the engine's environment for spec plus what only a
// container sandbox knows: the search paths for code and the layers under
// /opt, LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, TMPDIR and, unless the function
// sets its own, AWS_ENDPOINT_URL=endpoint (when endpoint is not empty).
func Environ(spec *backend.Spec, endpoint string) map[string]string {
	env := make(map[string]string, len(spec.Env)+10)
	for k, v := range spec.Env {
		env[k] = v
	}
	// A search path the function sets itself comes first.
	set := func(k, v string) {
		if own := env[k]; own != "" {
			v = own + ":" + v
		}
		env[k] = v
	}
	set("PATH", "/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin")
	set("LD_LIBRARY_PATH", "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib")
	if rt, ok := runtimes.Lookup(spec.Runtime); ok {
		switch rt.Family {
		case runtimes.FamilyPython:
			set("PYTHONPATH", "/opt/python/lib/"+rt.ID+"/site-packages:/opt/python")
		case runtimes.FamilyNodejs:
			major := strings.TrimSuffix(strings.TrimPrefix(rt.ID, "nodejs"), ".x")
			set("NODE_PATH", "/opt/nodejs/node"+major+"/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task")
		}
	}
	env["LAMBDA_TASK_ROOT"] = TaskRoot
	env["LAMBDA_RUNTIME_DIR"] = RuntimeDir
	env["TMPDIR"] = "/tmp"
	if _, ok := env["AWS_ENDPOINT_URL"]; !ok && endpoint != "" {
		env["AWS_ENDPOINT_URL"] = endpoint
	}
	return env
}
