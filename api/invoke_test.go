package api

import (
	"errors"
	"net/http/httptest"
	"testing"
)

// TestInvokeHeaders: Invoke and InvokeWithResponseStream read their headers
// alike; only the invocation types they accept, and so AWS's message, differ.
func TestInvokeHeaders(t *testing.T) {
	invoke := []string{"Event", "RequestResponse", "DryRun"}
	stream := []string{"RequestResponse", "DryRun"}
	tests := []struct {
		name             string
		types            []string
		invType, logType string // headers sent ("" for none)
		wantInv, wantLog string
		wantErr          string // "" for none
	}{
		{"defaults", invoke, "", "", "RequestResponse", "", ""},
		{"event with tail", invoke, "Event", "Tail", "Event", "Tail", ""},
		{"dry run, no log", stream, "DryRun", "None", "DryRun", "None", ""},
		{"stream refuses Event", stream, "Event", "", "", "",
			"1 validation error detected: Value 'Event' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [RequestResponse, DryRun]"},
		{"bad invocation type", invoke, "Later", "", "", "",
			"1 validation error detected: Value 'Later' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"},
		{"both bad", invoke, "Later", "All", "", "",
			"2 validation errors detected: Value 'Later' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]; " +
				"Value 'All' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/2015-03-31/functions/f/invocations", nil)
			if tc.invType != "" {
				r.Header.Set("X-Amz-Invocation-Type", tc.invType)
			}
			if tc.logType != "" {
				r.Header.Set("X-Amz-Log-Type", tc.logType)
			}
			inv, logType, err := invokeHeaders(r, tc.types...)
			if tc.wantErr != "" {
				var ae *awsError
				if !errors.As(err, &ae) || ae.Code != "ValidationException" || ae.Message != tc.wantErr {
					t.Fatalf("err = %v; want ValidationException %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || inv != tc.wantInv || logType != tc.wantLog {
				t.Fatalf("= %q, %q, %v; want %q, %q", inv, logType, err, tc.wantInv, tc.wantLog)
			}
		})
	}
}
