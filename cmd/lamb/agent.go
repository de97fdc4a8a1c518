package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/lambhq/lamb/agent"
)

// newAgentCmd is the hidden `lamb agent` mode: the entrypoint of every
// container the docker/podman backend starts (see package agent). Its flags are
// the agent's own, parsed by agent.Main.
func newAgentCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "agent [--listen :9009] [--try PATH]... [-- COMMAND...]",
		Short:              "Run as the in-sandbox agent (internal)",
		Hidden:             true,
		DisableFlagParsing: true,
		SilenceUsage:       true,
		Run: func(cmd *cobra.Command, args []string) {
			os.Exit(agent.Main(args, cmd.ErrOrStderr()))
		},
	}
}
