// Command lamb runs AWS Lambda functions locally: `lamb serve` speaks the Lambda API
// on one port; `lamb invoke`, `lamb ps` and `lamb logs` are for people at a terminal.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "lamb:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "lamb",
		Short:         "A local AWS Lambda engine",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return flagsFromEnv(cmd.Flags())
		},
	}
	root.AddCommand(newServeCmd(), newInvokeCmd(), newPsCmd(), newLogsCmd(), newVersionCmd(), newAgentCmd(), newKubeInitCmd(), newURLsCmd(), newDeployCmd(), newStacksCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print lamb's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "lamb", version)
		},
	}
}

// flagsFromEnv gives every flag not set on the command line the value of
// LAMB_<FLAG> (upper case, dashes as underscores), so containers and CI can
// configure lamb without arguments.
func flagsFromEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		name := "LAMB_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		if sv, isSlice := f.Value.(pflag.SliceValue); isSlice {
			err = sv.Replace(strings.Split(v, ","))
		} else {
			err = fs.Set(f.Name, v)
		}
		if err != nil {
			err = fmt.Errorf("%s=%q: %w", name, v, err)
		}
	})
	return err
}
