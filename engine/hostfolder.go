package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/lambhq/lamb/engine/backend"
)

// Hot reload: a function's code or a layer may be a folder on lamb's host
// (backend.Artifact.Dir) instead of a zip. The API layer watches the folder
// and gives every saved state of it another Revision; the revision is part of
// the pool key (poolKey), so the first invocation after a change gets a new
// pool: the old pool's idle instances are stopped at once and its busy ones
// when their call ends (supersedeLocked), exactly as after UpdateFunctionCode.

// HotReloadErrorType is the errorType of the function error an invocation
// gets when a function's code folder (or a layer's) is gone or is not a
// folder.
const HotReloadErrorType = "Runtime.HotReloadFolderMissing"

// usesHostFolders reports whether fn's code or a layer of it is a host folder.
func (fn *Function) usesHostFolders() bool {
	if fn.Code.Dir != "" {
		return true
	}
	for _, l := range fn.Layers {
		if l.Dir != "" {
			return true
		}
	}
	return false
}

// hostFoldersError is the StateError of a function whose code is a host
// folder on a backend that cannot use one.
func (e *Engine) hostFoldersError() *StateError {
	return &StateError{Code: "InvalidCode", Reason: fmt.Sprintf(
		"lamb's %s backend cannot run code from a folder on lamb's host (hot reload, S3Bucket hot-reload): it needs the process backend or a local Docker or Podman engine.", e.b.Name())}
}

// checkHostFolders returns an *backend.InitError, a function error that
// says what is wrong, when a folder fn runs from is gone or not a folder.
// Launching anyway would fail in the backend with an error of lamb's own
// (Docker refuses a bind mount of a missing path, a process cannot chdir).
// A backend without Capabilities.HostFolders gets the StateError instead.
func (e *Engine) checkHostFolders(fn *Function) error {
	if !fn.usesHostFolders() {
		return nil
	}
	if !e.b.Capabilities().HostFolders {
		return e.hostFoldersError()
	}
	check := func(what string, a backend.Artifact) error {
		if a.Dir == "" {
			return nil
		}
		fi, err := os.Stat(a.Dir)
		var msg string
		switch {
		case errors.Is(err, fs.ErrNotExist):
			msg = fmt.Sprintf("hot reload: the %s folder %s does not exist (was it removed or renamed?). Restore it, or point the function elsewhere with UpdateFunctionCode.", what, a.Dir)
		case err != nil:
			msg = fmt.Sprintf("hot reload: the %s folder %s cannot be read by lamb: %v", what, a.Dir, err)
		case !fi.IsDir():
			msg = fmt.Sprintf("hot reload: the %s folder %s is not a folder.", what, a.Dir)
		default:
			return nil
		}
		body, _ := json.Marshal(map[string]string{"errorType": HotReloadErrorType, "errorMessage": msg})
		return &backend.InitError{FunctionError: backend.FunctionError{Type: HotReloadErrorType, Body: body},
			Log: []byte(msg + "\n")}
	}
	if err := check("code", fn.Code); err != nil {
		return err
	}
	for _, l := range fn.Layers {
		if err := check("layer", l); err != nil {
			return err
		}
	}
	return nil
}
