package api

import "strings"

// SnapStart is configuration only in lamb: the setting is stored and
// answered as AWS answers it, and published versions report
// OptimizationStatus On when it applies to them. Invocations are not
// restored from snapshots (each backend starts its runtime as usual).

// snapStartApplyOn are the model's SnapStartApplyOn values.
var snapStartApplyOn = []string{"PublishedVersions", "None"}

// snapStartRuntime reports whether AWS offers SnapStart for runtime: Java 11
// and later, Python 3.12 and later, .NET 8 and later.
func snapStartRuntime(runtime string) bool {
	switch {
	case runtime == "java11", runtime == "java17", runtime == "java21", runtime == "java25":
		return true
	case runtime == "dotnet8", runtime == "dotnet10":
		return true
	case strings.HasPrefix(runtime, "python3."):
		minor := strings.TrimPrefix(runtime, "python3.")
		return len(minor) >= 2 && minor >= "12"
	}
	return false
}

// validateSnapStart adds a ValidationException problem for an ApplyOn value
// outside the model's enum.
func validateSnapStart(v *validationError, in *snapStartInput) {
	if in == nil || in.ApplyOn == "" {
		return
	}
	for _, ok := range snapStartApplyOn {
		if in.ApplyOn == ok {
			return
		}
	}
	v.add(in.ApplyOn, "snapStart.applyOn", "Member must satisfy enum value set: [PublishedVersions, None]")
}

// checkSnapStart refuses SnapStart on a function whose runtime (or package
// type) AWS does not offer it for.
func checkSnapStart(f *functionRecord) error {
	if f.SnapStartOn != "PublishedVersions" {
		return nil
	}
	if f.PackageType == packageImage || !snapStartRuntime(f.Runtime) {
		rt := f.Runtime
		if f.PackageType == packageImage {
			rt = "Image"
		}
		return errInvalidParameter("%s is not supported for SnapStart enabled functions.", rt)
	}
	return nil
}

// snapStartOptimization is the OptimizationStatus AWS answers: On for a
// published version created while ApplyOn was PublishedVersions, else Off.
func snapStartOptimization(f *functionRecord) string {
	if f.SnapStartOn == "PublishedVersions" && f.version() != "$LATEST" {
		return "On"
	}
	return "Off"
}
