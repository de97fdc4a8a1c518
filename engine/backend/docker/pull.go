package docker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/lambhq/lamb/engine/backend"
)

// pullMessage is one line of the engine's pull progress stream.
type pullMessage struct {
	Status         string `json:"status"`
	ID             string `json:"id"`
	ProgressDetail struct {
		Current int64 `json:"current"`
		Total   int64 `json:"total"`
	} `json:"progressDetail"`
	Error string `json:"error"`
}

// readPullProgress reads the pull stream to its end (the pull finishes only
// then), reporting each message; an error message in the stream fails it.
func readPullProgress(r io.Reader, ref string, progress func(backend.Progress)) error {
	dec := json.NewDecoder(r)
	for {
		var m pullMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("docker backend: pull %s: %w", ref, err)
		}
		if m.Error != "" {
			return fmt.Errorf("docker backend: pull %s: %s", ref, m.Error)
		}
		if progress != nil {
			status := m.Status
			if m.ID != "" {
				status = m.ID + ": " + status
			}
			progress(backend.Progress{Image: ref, Status: status, Current: m.ProgressDetail.Current, Total: m.ProgressDetail.Total})
		}
	}
}
