package engine

import (
	"fmt"
	"testing"
	"time"
)

// TestAppendReportMatchesFormat: the appended REPORT line is the one fmt
// wrote before, rounding included.
func TestAppendReportMatchesFormat(t *testing.T) {
	fn := testFunction()
	const id = "8f5e5c8a-3b1e-4a51-9c9f-2f7f1d4c0b6e"
	for _, tc := range []struct {
		dur, initDur time.Duration
		mem          int
	}{
		{0, 0, 0},
		{1234567 * time.Nanosecond, 0, 40},
		{5 * time.Microsecond, 0, 1},
		{15 * time.Microsecond, 12340 * time.Microsecond, 128},
		{2999999 * time.Microsecond, 1999500 * time.Microsecond, 3008},
		{125 * time.Microsecond, 1005 * time.Microsecond, 7},
	} {
		want := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
			id, ms(tc.dur), billedMs(tc.dur, tc.initDur), fn.memoryMB(), tc.mem)
		if tc.initDur > 0 {
			want += fmt.Sprintf("Init Duration: %.2f ms\t", ms(tc.initDur))
		}
		want += "\n"
		if got := reportLine(fn, id, time.Now(), tc.dur, tc.initDur, tc.mem, "success", ""); got != want {
			t.Errorf("dur %v init %v:\n got %q\nwant %q", tc.dur, tc.initDur, got, want)
		}
	}
}
