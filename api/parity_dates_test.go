package api

import (
	"testing"
	"time"
)

// TestParityChecksDateFormats: the parity normaliser turns a LastModified or
// CreatedDate into the recordings' "date" only when it is written as AWS
// writes it, so a wrong format makes a label differ from AWS's recording.
func TestParityChecksDateFormats(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 4, 5, 7e6, time.UTC)
	for _, tc := range []struct {
		name string
		view map[string]any
		want any
	}{
		{"function", map[string]any{"LastModified": at.Format(lastModifiedLayout)}, "date"},
		{"layer version", map[string]any{"CreatedDate": "2026-12-03T09:04:05.007+0000"}, "date"},
		{"RFC 3339", map[string]any{"LastModified": at.Format(time.RFC3339Nano)}, "2026-12-03T09:04:05.007Z"},
		{"no milliseconds", map[string]any{"LastModified": "2026-12-03T09:04:05+0000"}, "2026-12-03T09:04:05+0000"},
		{"another offset", map[string]any{"LastModified": "2026-12-03T09:04:05.007+0100"}, "2026-12-03T09:04:05.007+0100"},
		{"microseconds", map[string]any{"LastModified": "2026-12-03T09:04:05.007000+0000"}, "2026-12-03T09:04:05.007000+0000"},
		{"provisioned concurrency", map[string]any{"RequestedProvisionedConcurrentExecutions": 1.0, "LastModified": "2026-12-03T09:04:05+0000"}, "date"},
		{"provisioned with milliseconds", map[string]any{"RequestedProvisionedConcurrentExecutions": 1.0, "LastModified": "2026-12-03T09:04:05.007+0000"}, "2026-12-03T09:04:05.007+0000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := newNormaliser().value("", tc.view).(map[string]any)
			key := "LastModified"
			if _, ok := tc.view["CreatedDate"]; ok {
				key = "CreatedDate"
			}
			if got[key] != tc.want {
				t.Errorf("%s normalised to %v, want %v", tc.view[key], got[key], tc.want)
			}
		})
	}
}
