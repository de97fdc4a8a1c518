// Command lamb-agent is the agent alone, for tests and for images built
// without the whole lamb binary. It accepts the same arguments as `lamb agent`
// (a leading "agent" argument is ignored, so backends can run either binary
// the same way).
package main

import (
	"os"

	"github.com/lambhq/lamb/agent"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "agent" {
		args = args[1:]
	}
	os.Exit(agent.Main(args, os.Stderr))
}
