// Command lamb-k8s is the smallest binary with the two modes lamb's image
// needs in a Pod: `agent` (the main container's entrypoint) and `k8s-init`
// (the init container). Tests build the image from it with
// LAMB_IMAGE_PKG=./engine/backend/kubernetes/cmd/lamb-k8s
// scripts/build-lamb-image.sh, so they do not depend on cmd/lamb's wiring;
// the real image carries the lamb binary itself.
package main

import (
	"fmt"
	"os"

	"github.com/lambhq/lamb/agent"
	"github.com/lambhq/lamb/engine/backend/kubernetes"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: lamb-k8s agent|k8s-init [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "agent":
		os.Exit(agent.Main(os.Args[2:], os.Stderr))
	case "k8s-init":
		os.Exit(kubernetes.InitMain(os.Args[2:], os.Stderr))
	}
	fmt.Fprintf(os.Stderr, "lamb-k8s: unknown mode %q\n", os.Args[1])
	os.Exit(2)
}
