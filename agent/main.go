package agent

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/lambhq/lamb/agent/agentapi"
)

// Main runs the agent from command-line arguments (those after `lamb agent`)
// and returns the process's exit status:
//
//	lamb agent [--listen :9009] [--try /var/task/bootstrap]... [--dir /var/task] [-- command args...]
func Main(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":"+strconv.Itoa(agentapi.DefaultPort), "host API address")
	dir := fs.String("dir", "", "working directory of the runtime")
	var try multiFlag
	fs.Var(&try, "try", "a bootstrap path to run if it exists (repeatable; used when no command is given)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	code, err := Run(ctx, Config{Listen: *listen, Dir: *dir, Try: try, Command: fs.Args()})
	if err != nil {
		fmt.Fprintln(stderr, err)
	}
	return code
}

type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
