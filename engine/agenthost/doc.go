// Package agenthost holds the host side that lamb's backends share, so that each
// backend keeps only what is its own (creating, watching and removing its
// processes, containers or Pods, and its source of exit states).
//
// # Agent-backed sandboxes
//
// A [Host] is the host side of one sandbox whose runtime is supervised by
// lamb's agent (package agentapi): it follows the agent's event stream
// (ready, init error, log lines, tunnel requests, exit), waits for
// readiness, opens the tunnels that carry the function's calls to lamb's API
// (Config.API) and closes them when the sandbox ends, sends
// invocations and turns their answers into backend.Responses, and keeps the
// Done/Stop bookkeeping. It implements backend.Instance; a backend embeds it
// in its own instance type and drives it from the one goroutine that owns the
// sandbox's life:
//
//	h := agenthost.New(agenthost.Config{ID: spec.InstanceID, Log: spec.Log, Kill: remove})
//	// create and start the sandbox (its agent given secret, from
//	// agentapi.NewSecret), then in the backend's run goroutine:
//	ev := h.Follow(ctx, agentapi.NewClient(addr, secret)) // until the exit event or the stream's end
//	xe := h.MarkExited(ev)                                // complete xe from the backend's own view
//	h.RecordExit(xe)
//	// free the sandbox
//	h.CloseDone()
//
// while Launch waits with [Host.WaitReady].
//
// # Shared pieces
//
// [Environ] is the environment of a sandbox laid out as AWS's (/var/task,
// /opt). [Begin], [Trailer] and [NewBody] are the parts of Invoke that every
// backend writes the same way, agent-backed or not. [Live] is a backend's set
// of running instances.
package agenthost
