// Package kubernetes is lamb's Kubernetes backend: every function instance is a
// Pod on the user's cluster, driven with client-go.
//
// # Pods
//
// A Pod has one init container and one main container. The init container runs
// lamb's own image (scripts/build-lamb-image.sh) as `lamb k8s-init` (InitMain):
// it copies the lamb binary into an emptyDir, so the main container can run it
// as the agent, and fetches the function's code and layers from lamb's internal
// artifact endpoint (ArtifactHandler) with a bearer token that is random per
// Backend. The main container runs the runtime image with the agent as its
// entrypoint; /var/task, /opt and /tmp are emptyDirs. lamb watches the Pod
// until it runs, then reaches the agent at the Pod IP (package agentapi) and
// waits for its ready event. Functions reach lamb's API at AWS_ENDPOINT_URL on
// the Pod's loopback, through the agent's tunnels over that connection
// (Config.API); only the init container uses SelfURL.
//
// # Ownership
//
// Pods carry the label app.kubernetes.io/managed-by=lamb and the owning
// server's ID; Reap deletes those of a dead run of this server, Close deletes
// this one's and waits until they are gone. Each Pod's agent holds a lease on
// lamb (Config.AgentLease): once lamb has not held its event stream for that
// long, the agent ends the Pod, so a lamb killed with its watchdog leaves no
// Pod running.
// A Pod deleted, evicted or failed behind lamb's back ends its instance (Done
// closes), so the engine evicts it and starts a fresh one.
//
// # Security
//
// The token only guards the artifact endpoint; it travels to Pods in the init
// container's environment, so whoever may read Pods in the namespace may read
// it. The agent answers only requests that carry its Pod's own secret
// (agentapi.EnvSecret, random per instance, kept from the function), so other
// Pods that reach the Pod IP cannot invoke it; whoever may read Pods in the
// namespace may read that secret too. Restrict both with RBAC, and who
// reaches Pod IPs with a NetworkPolicy, on shared clusters.
package kubernetes
